using System;
using System.Collections.Generic;
using System.Linq;

namespace FluxApps.Generators;

public sealed partial class FluxAppGenerator
{
    internal static partial class Emitter
    {
        /// <summary>One class per assembly with a Write_ and a Read_ method for every shape that is not a primitive or an enum.</summary>
        private static string EmitSerializers(SortedDictionary<string, TypeShape> shapes, string assemblyName)
        {
            string className = SerializerClassName(assemblyName);
            string serializers = "global::FluxApps.Generated." + className;
            // Payload readers return what was written, nulls included, whatever the declared nullability.
            var w = NewFile(nullable: false);
            using (w.Block("namespace FluxApps.Generated"))
            {
                w.WriteLine("/// <summary>Writes and reads the argument and result types of this assembly's FluxApps.</summary>");
                w.WriteLine(s_generatedCode);
                w.WriteLine(NeverBrowsable);
                using (w.Block($"internal static class {className}"))
                {
                    bool firstMember = true;
                    foreach (var shape in shapes.Values)
                    {
                        if (shape.Kind is ShapeKind.Primitive or ShapeKind.Enum) continue;
                        if (!firstMember) w.WriteLine();
                        firstMember = false;
                        EmitWrite(w, shape, shapes, serializers);
                        w.WriteLine();
                        EmitRead(w, shape, shapes, serializers);
                    }
                }
            }
            return w.ToString();
        }

        /// <summary>
        /// Objects count toward the reader's depth limit by their presence marker; a struct only when it can
        /// contain itself (through a collection), so that a hostile payload cannot nest it without bound.
        /// </summary>
        private static bool CountsDepth(TypeShape shape, IReadOnlyDictionary<string, TypeShape> shapes) =>
            shape.Kind == ShapeKind.Object && shape.IsValueType && ReachesItself(shape, shapes);

        private static void EmitWrite(SourceWriter w, TypeShape shape, SortedDictionary<string, TypeShape> shapes, string serializers)
        {
            string WriteOf(string key, string value) => WriteExpression(shapes[key], "w", value, serializers);
            bool countsDepth = CountsDepth(shape, shapes);
            using (w.Block($"public static void Write_{MethodId(shape.Key)}({Writer} w, {shape.Key} v)"))
            {
                switch (shape.Kind)
                {
                    case ShapeKind.Nullable:
                        w.WriteLine("w.WriteBoolean(v.HasValue);");
                        w.WriteLine($"if (v.HasValue) {WriteOf(shape.Element!, "v.GetValueOrDefault()")};");
                        break;
                    case ShapeKind.Array:
                        w.WriteLine("if (v is null) { w.WriteCount(-1); return; }");
                        w.WriteLine("w.WriteCount(v.Length);");
                        w.WriteLine($"for (int i = 0; i < v.Length; i++) {WriteOf(shape.Element!, "v[i]")};");
                        break;
                    case ShapeKind.List:
                    case ShapeKind.HashSet:
                        w.WriteLine("if (v is null) { w.WriteCount(-1); return; }");
                        if (shape.HasCount)
                        {
                            w.WriteLine("w.WriteCount(v.Count);");
                            w.WriteLine($"foreach (var item in v) {WriteOf(shape.Element!, "item")};");
                        }
                        else
                        {
                            w.WriteLine($"var items = new global::System.Collections.Generic.List<{shape.Element}>(v);");
                            w.WriteLine("w.WriteCount(items.Count);");
                            w.WriteLine($"foreach (var item in items) {WriteOf(shape.Element!, "item")};");
                        }
                        break;
                    case ShapeKind.Dictionary:
                        w.WriteLine("if (v is null) { w.WriteCount(-1); return; }");
                        w.WriteLine("w.WriteCount(v.Count);");
                        using (w.Block("foreach (var pair in v)"))
                        {
                            w.WriteLine(WriteOf(shape.Element!, "pair.Key") + ";");
                            w.WriteLine(WriteOf(shape.Value!, "pair.Value") + ";");
                        }
                        break;
                    case ShapeKind.Object:
                        if (!shape.IsValueType) w.WriteLine("if (!w.BeginObject(v)) return;");
                        else if (countsDepth) w.WriteLine("w.BeginStruct();");
                        foreach (var m in shape.Members)
                            w.WriteLine(WriteOf(m.TypeKey, "v." + Parser.Escape(m.Name)) + ";");
                        if (!shape.IsValueType) w.WriteLine("w.EndObject();");
                        else if (countsDepth) w.WriteLine("w.EndStruct();");
                        break;
                }
            }
        }

        private static void EmitRead(SourceWriter w, TypeShape shape, SortedDictionary<string, TypeShape> shapes, string serializers)
        {
            string type = shape.Key;
            string ReadOf(string key) => ReadExpression(shapes[key], "r", serializers);
            bool countsDepth = CountsDepth(shape, shapes);
            using (w.Block($"public static {type} Read_{MethodId(shape.Key)}({Reader} r)"))
            {
                switch (shape.Kind)
                {
                    case ShapeKind.Nullable:
                        w.WriteLine($"return r.ReadBoolean() ? ({type}){ReadOf(shape.Element!)} : null;");
                        break;
                    case ShapeKind.Array:
                        w.WriteLine($"int n = r.ReadCount({MinSize(shape.Element!, shapes)});");
                        w.WriteLine("if (n < 0) return null;");
                        w.WriteLine($"var a = {NewArray(shape.Element!, "n")};");
                        w.WriteLine($"for (int i = 0; i < n; i++) a[i] = {ReadOf(shape.Element!)};");
                        w.WriteLine("return a;");
                        break;
                    case ShapeKind.List:
                    case ShapeKind.HashSet:
                        string collection = shape.Kind == ShapeKind.List ? "List" : "HashSet";
                        w.WriteLine($"int n = r.ReadCount({MinSize(shape.Element!, shapes)});");
                        w.WriteLine("if (n < 0) return null;");
                        w.WriteLine($"var c = new global::System.Collections.Generic.{collection}<{shape.Element}>(n);");
                        w.WriteLine($"for (int i = 0; i < n; i++) c.Add({ReadOf(shape.Element!)});");
                        w.WriteLine("return c;");
                        break;
                    case ShapeKind.Dictionary:
                        w.WriteLine($"int n = r.ReadCount({MinSize(shape.Element!, shapes) + MinSize(shape.Value!, shapes)});");
                        w.WriteLine("if (n < 0) return null;");
                        w.WriteLine($"var d = new global::System.Collections.Generic.Dictionary<{shape.Element}, {shape.Value}>(n);");
                        using (w.Block("for (int i = 0; i < n; i++)"))
                        {
                            w.WriteLine($"var key = {ReadOf(shape.Element!)};");
                            if (CanBeNull(shapes[shape.Element!])) w.WriteLine("if (key is null) throw r.NullDictionaryKey();");
                            w.WriteLine($"d[key] = {ReadOf(shape.Value!)};");
                        }
                        w.WriteLine("return d;");
                        break;
                    case ShapeKind.Object:
                        if (!shape.IsValueType) w.WriteLine("if (!r.BeginObject()) return null;");
                        else if (countsDepth) w.WriteLine("r.BeginStruct();");
                        for (int i = 0; i < shape.Members.Count; i++)
                            w.WriteLine($"var m{i} = {ReadOf(shape.Members[i].TypeKey)};");
                        if (!shape.IsValueType) w.WriteLine("r.EndObject();");
                        else if (countsDepth) w.WriteLine("r.EndStruct();");
                        var ctorArgs = shape.Members.Select((m, i) => (m, i)).Where(x => x.m.ConstructorIndex >= 0)
                            .OrderBy(x => x.m.ConstructorIndex).Select(x => "m" + x.i).ToList();
                        var inits = shape.Members.Select((m, i) => (m, i)).Where(x => x.m.ConstructorIndex < 0)
                            .Select(x => Parser.Escape(x.m.Name) + " = m" + x.i).ToList();
                        if (type.StartsWith("(", StringComparison.Ordinal))
                            w.WriteLine($"return ({string.Join(", ", ctorArgs)});");
                        else
                            w.WriteLine($"return new {type}({string.Join(", ", ctorArgs)}){(inits.Count > 0 ? " { " + string.Join(", ", inits) + " }" : "")};");
                        break;
                }
            }
        }

        /// <summary>
        /// The fewest payload bytes a value of the shape takes: what bounds a collection's count by the bytes
        /// left before the reader allocates. 0 for types without data (empty structs, <c>ValueTuple</c>).
        /// </summary>
        internal static int MinSize(string key, IReadOnlyDictionary<string, TypeShape> shapes)
        {
            var shape = shapes[key];
            switch (shape.Kind)
            {
                case ShapeKind.Primitive:
                case ShapeKind.Enum:
                    return PrimitiveSize(shape.Primitive!);
                case ShapeKind.Object when shape.IsValueType:
                    // A struct holds its members inline; it cannot hold itself inline, so this ends.
                    int sum = 0;
                    foreach (var m in shape.Members) sum += MinSize(m.TypeKey, shapes);
                    return sum;
                default:
                    return 1; // a presence marker, a null flag or a count
            }
        }

        private static int PrimitiveSize(string primitive) => primitive switch
        {
            "Boolean" or "Byte" or "SByte" => 1,
            "Int16" or "UInt16" or "Char" or "Half" => 2,
            "Int32" or "UInt32" or "Single" or "DateOnly" => 4,
            "Int64" or "UInt64" or "Double" or "DateTime" or "TimeSpan" or "TimeOnly" => 8,
            "Decimal" or "Int128" or "UInt128" or "Guid" or "DateTimeOffset" or "Complex" => 16,
            "String" or "Bytes" => 1, // the length prefix
            _ => throw new InvalidOperationException("no size for primitive " + primitive),
        };

        private static bool CanBeNull(TypeShape shape) => !shape.IsValueType || shape.Kind == ShapeKind.Nullable;

        /// <summary>Whether a value of the shape can contain another value of the same shape.</summary>
        private static bool ReachesItself(TypeShape shape, IReadOnlyDictionary<string, TypeShape> shapes)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var pending = new Stack<string>(Children(shape));
            while (pending.Count > 0)
            {
                string key = pending.Pop();
                if (key == shape.Key) return true;
                if (!seen.Add(key)) continue;
                foreach (string child in Children(shapes[key])) pending.Push(child);
            }
            return false;
        }

        private static IEnumerable<string> Children(TypeShape shape)
        {
            if (shape.Element is not null) yield return shape.Element;
            if (shape.Value is not null) yield return shape.Value;
            foreach (var m in shape.Members) yield return m.TypeKey;
        }

        /// <summary><c>new E[n]</c>, with the size placed before an element type's own array ranks (<c>new int[n][]</c>).</summary>
        private static string NewArray(string elementKey, string size)
        {
            int cut = elementKey.Length;
            while (cut >= 2 && elementKey[cut - 1] == ']' && elementKey[cut - 2] == '[') cut -= 2;
            return "new " + elementKey.Substring(0, cut) + "[" + size + "]" + elementKey.Substring(cut);
        }
    }
}
