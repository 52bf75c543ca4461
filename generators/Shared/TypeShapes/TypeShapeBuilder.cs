#nullable enable
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>
/// Decides whether a type can travel in a payload and how. The generator emits serializers from
/// its shapes, and the analyzers report FLUX006 from its errors, so the two always agree.
/// </summary>
internal sealed class TypeShapeBuilder
{
    /// <summary>The display format of type keys and of types in generated code.</summary>
    public static readonly SymbolDisplayFormat KeyFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    private readonly Dictionary<string, TypeShape> _shapes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inProgress = new(StringComparer.Ordinal);

    /// <summary>Every shape built so far, in the order they were finished.</summary>
    public IEnumerable<TypeShape> Shapes => _shapes.Values;

    public static string KeyOf(ITypeSymbol type) => StripAnnotations(type).ToDisplayString(KeyFormat);

    private static ITypeSymbol StripAnnotations(ITypeSymbol type) =>
        type.IsReferenceType ? type.WithNullableAnnotation(NullableAnnotation.None) : type;

    /// <summary>Adds the shape of <paramref name="type"/> and of every type it contains; returns the reason it cannot be serialized, or null.</summary>
    public string? Add(ITypeSymbol type) => Visit(type, type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat));

    private string? Visit(ITypeSymbol type, string path)
    {
        string key = KeyOf(type);
        if (_shapes.ContainsKey(key) || _inProgress.Contains(key)) return null;
        string? primitive = PrimitiveName(type);
        if (primitive is not null)
        {
            _shapes[key] = new TypeShape(key, ShapeKind.Primitive, primitive, null, null, type.IsValueType, false, EquatableArray<MemberShape>.Empty, 0);
            return null;
        }
        string? reason = WhyUnsupported(type);
        if (reason is not null) return $"{path}: {reason}";

        if (type is IArrayTypeSymbol array)
        {
            if (array.Rank != 1)
                return $"{path}: multi-dimensional arrays ({Display(type)}) are not supported; use a jagged array ({Display(array.ElementType)}[][]) or a flat array with its dimensions";
            return Container(key, ShapeKind.Array, array.ElementType, null, true, path + "[]");
        }
        if (type is INamedTypeSymbol named)
        {
            if (named.TypeKind == TypeKind.Enum)
            {
                string underlying = PrimitiveName(named.EnumUnderlyingType!)!;
                _shapes[key] = new TypeShape(key, ShapeKind.Enum, underlying, null, null, true, false, EquatableArray<MemberShape>.Empty, 0);
                return null;
            }
            if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
                return Container(key, ShapeKind.Nullable, named.TypeArguments[0], null, false, path);

            string definition = named.OriginalDefinition.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            switch (definition)
            {
                case "global::System.Collections.Generic.List<T>":
                case "global::System.Collections.Generic.IList<T>":
                case "global::System.Collections.Generic.ICollection<T>":
                case "global::System.Collections.Generic.IReadOnlyList<T>":
                case "global::System.Collections.Generic.IReadOnlyCollection<T>":
                    return Container(key, ShapeKind.List, named.TypeArguments[0], null, true, path + "[]");
                case "global::System.Collections.Generic.IEnumerable<T>":
                    return Container(key, ShapeKind.List, named.TypeArguments[0], null, false, path + "[]");
                case "global::System.Collections.Generic.HashSet<T>":
                case "global::System.Collections.Generic.ISet<T>":
                case "global::System.Collections.Generic.IReadOnlySet<T>":
                    return Container(key, ShapeKind.HashSet, named.TypeArguments[0], null, true, path + "[]");
                case "global::System.Collections.Generic.Dictionary<TKey, TValue>":
                case "global::System.Collections.Generic.IDictionary<TKey, TValue>":
                case "global::System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>":
                    return Container(key, ShapeKind.Dictionary, named.TypeArguments[0], named.TypeArguments[1], true, path + "[]");
            }
            if (named.AllInterfaces.Any(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)
                && named.SpecialType != SpecialType.System_String)
                return $"{path}: {Display(type)} is a collection FluxApps cannot rebuild; use an array, List<T>, HashSet<T> or Dictionary<TKey, TValue>";
            return ObjectShape(named, key, path);
        }
        return $"{path}: {Display(type)} cannot be serialized";
    }

    private string? Container(string key, ShapeKind kind, ITypeSymbol element, ITypeSymbol? value, bool hasCount, string path)
    {
        _inProgress.Add(key);
        string? error = Visit(element, path) ?? (value is null ? null : Visit(value, path));
        _inProgress.Remove(key);
        if (error is not null) return error;
        _shapes[key] = new TypeShape(key, kind, null, KeyOf(element), value is null ? null : KeyOf(value),
            kind == ShapeKind.Nullable, hasCount, EquatableArray<MemberShape>.Empty, 0);
        return null;
    }

    private string? ObjectShape(INamedTypeSymbol type, string key, string path)
    {
        if (type.TypeKind == TypeKind.Interface)
            return $"{path}: {Display(type)} is an interface: the job cannot know which implementation to create; use a concrete type";
        if (type.IsAbstract)
            return $"{path}: {Display(type)} is abstract: the job cannot know which implementation to create; use a concrete type";
        if (type.TypeKind != TypeKind.Class && type.TypeKind != TypeKind.Struct)
            return $"{path}: {Display(type)} cannot be serialized";
        if (!IsAccessibleFromAssembly(type))
            return $"{path}: {Display(type)} is not accessible to generated code; make it internal or public";

        if (type.IsTupleType) return TupleShape(type, key, path);

        var members = new List<(string Name, ITypeSymbol Type, bool Settable)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var t = type; t is not null && t.SpecialType != SpecialType.System_Object && t.SpecialType != SpecialType.System_ValueType; t = t.BaseType)
        {
            var level = new List<(string, ITypeSymbol, bool)>();
            foreach (var member in t.GetMembers())
            {
                if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public) continue;
                if (!seen.Add(member.Name)) continue;
                switch (member)
                {
                    case IPropertySymbol p when !p.IsIndexer && p.GetMethod is { DeclaredAccessibility: Accessibility.Public } && !p.ReturnsByRef && !p.ReturnsByRefReadonly:
                        level.Add((p.Name, p.Type, p.SetMethod is { DeclaredAccessibility: Accessibility.Public }));
                        break;
                    case IFieldSymbol f when !f.IsConst && f.AssociatedSymbol is null && f.CanBeReferencedByName:
                        level.Add((f.Name, f.Type, !f.IsReadOnly));
                        break;
                }
            }
            members.InsertRange(0, level);
        }

        // The constructor with the most parameters that all match members (name, ignoring case, and type).
        IMethodSymbol? best = null;
        int[]? bestMap = null;
        foreach (var ctor in type.InstanceConstructors)
        {
            if (ctor.DeclaredAccessibility != Accessibility.Public) continue;
            if (ctor.Parameters.Any(p => p.RefKind != RefKind.None)) continue;
            if (IsCopyConstructor(ctor, type)) continue;
            var map = new int[ctor.Parameters.Length];
            bool ok = true;
            for (int i = 0; i < ctor.Parameters.Length && ok; i++)
            {
                var parameter = ctor.Parameters[i];
                int index = members.FindIndex(m => string.Equals(m.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)
                    && SymbolEqualityComparer.Default.Equals(StripAnnotations(m.Type), StripAnnotations(parameter.Type)));
                ok = index >= 0;
                map[i] = index;
            }
            if (ok && (best is null || ctor.Parameters.Length > best.Parameters.Length))
            {
                best = ctor;
                bestMap = map;
            }
        }
        if (best is null)
            return $"{path}: {Display(type)} has no public constructor whose parameters all match its public properties (by name and type), nor a parameterless one";

        var shapes = new List<MemberShape>();
        _inProgress.Add(key);
        try
        {
            for (int i = 0; i < members.Count; i++)
            {
                int ctorIndex = Array.IndexOf(bestMap!, i);
                if (ctorIndex < 0 && !members[i].Settable) continue; // computed or private-set: rebuilt by the type itself
                string? error = Visit(members[i].Type, path + "." + members[i].Name);
                if (error is not null) return error;
                shapes.Add(new MemberShape(members[i].Name, KeyOf(members[i].Type), ctorIndex));
            }
        }
        finally
        {
            _inProgress.Remove(key);
        }
        _shapes[key] = new TypeShape(key, ShapeKind.Object, null, null, null, type.IsValueType, false, shapes.ToEquatableArray(), best.Parameters.Length);
        return null;
    }

    private string? TupleShape(INamedTypeSymbol type, string key, string path)
    {
        var elements = type.TupleElements;
        if (elements.Length > 7)
            return $"{path}: tuples of more than 7 elements are not supported; use a record";
        var shapes = new List<MemberShape>();
        _inProgress.Add(key);
        try
        {
            for (int i = 0; i < elements.Length; i++)
            {
                string? error = Visit(elements[i].Type, path + "." + elements[i].Name);
                if (error is not null) return error;
                shapes.Add(new MemberShape("Item" + (i + 1), KeyOf(elements[i].Type), i));
            }
        }
        finally
        {
            _inProgress.Remove(key);
        }
        _shapes[key] = new TypeShape(key, ShapeKind.Object, null, null, null, true, false, shapes.ToEquatableArray(), elements.Length);
        return null;
    }

    private static bool IsCopyConstructor(IMethodSymbol ctor, INamedTypeSymbol type) =>
        ctor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(ctor.Parameters[0].Type.OriginalDefinition, type.OriginalDefinition);

    private static bool IsAccessibleFromAssembly(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            if (t.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
                return false;
        }
        return true;
    }

    /// <summary>Why a type can never be serialized, whatever its shape; null if that is not known yet.</summary>
    private static string? WhyUnsupported(ITypeSymbol type)
    {
        switch (type.TypeKind)
        {
            case TypeKind.Pointer:
            case TypeKind.FunctionPointer:
                return $"pointers ({Display(type)}) cannot cross to another process";
            case TypeKind.Delegate:
                return $"{Display(type)} is a delegate: code and captured state of this process cannot travel to a job";
            case TypeKind.TypeParameter:
                return $"{Display(type)} is a type parameter: FluxApps needs concrete types";
            case TypeKind.Dynamic:
                return "dynamic cannot be serialized: use a concrete type";
            case TypeKind.Error:
                return $"{Display(type)} is not a known type";
        }
        if (type.SpecialType == SpecialType.System_Object)
            return "object cannot be serialized: the job must know the concrete type; use a specific type";
        if (type.SpecialType is SpecialType.System_IntPtr or SpecialType.System_UIntPtr)
            return $"{Display(type)} is a native handle or address, meaningless in another process";
        if (type.IsRefLikeType)
            return $"{Display(type)} is a ref struct and cannot be stored; use an array";
        if (type is INamedTypeSymbol named && named.IsUnboundGenericType)
            return $"{Display(type)} is an open generic type";
        for (var t = type; t is not null; t = t.BaseType)
        {
            string name = t.OriginalDefinition.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            switch (name)
            {
                case "global::System.IO.Stream":
                    return $"{Display(type)} is a stream, tied to this process; pass a file path or a byte[] instead";
                case "global::System.Threading.Tasks.Task":
                case "global::System.Threading.Tasks.Task<TResult>":
                case "global::System.Threading.Tasks.ValueTask":
                case "global::System.Threading.Tasks.ValueTask<TResult>":
                    return $"{Display(type)} is a pending operation of this process, not a value; pass its result instead";
                case "global::System.Exception":
                    return $"{Display(type)} is an exception; exceptions thrown by an app already come back as FluxAppException";
                case "global::System.Type":
                case "global::System.Reflection.MemberInfo":
                case "global::System.Reflection.Assembly":
                    return $"{Display(type)} is reflection metadata, not data";
                case "global::System.Threading.CancellationToken":
                    return "CancellationToken cannot be passed to a job; the stub's cancellationToken cancels the job itself";
                case "global::System.Runtime.InteropServices.SafeHandle":
                case "global::System.Threading.WaitHandle":
                case "global::System.Threading.Thread":
                    return $"{Display(type)} wraps a resource of this process";
            }
        }
        return null;
    }

    /// <summary>The FluxWriter/FluxReader method suffix for a primitive, or null.</summary>
    public static string? PrimitiveName(ITypeSymbol type)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean: return "Boolean";
            case SpecialType.System_Byte: return "Byte";
            case SpecialType.System_SByte: return "SByte";
            case SpecialType.System_Int16: return "Int16";
            case SpecialType.System_UInt16: return "UInt16";
            case SpecialType.System_Int32: return "Int32";
            case SpecialType.System_UInt32: return "UInt32";
            case SpecialType.System_Int64: return "Int64";
            case SpecialType.System_UInt64: return "UInt64";
            case SpecialType.System_Single: return "Single";
            case SpecialType.System_Double: return "Double";
            case SpecialType.System_Decimal: return "Decimal";
            case SpecialType.System_Char: return "Char";
            case SpecialType.System_String: return "String";
            case SpecialType.System_DateTime: return "DateTime";
        }
        if (type is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte }) return "Bytes";
        switch (type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat))
        {
            case "global::System.DateTimeOffset": return "DateTimeOffset";
            case "global::System.TimeSpan": return "TimeSpan";
            case "global::System.Guid": return "Guid";
            case "global::System.DateOnly": return "DateOnly";
            case "global::System.TimeOnly": return "TimeOnly";
            case "global::System.Half": return "Half";
            case "global::System.Int128": return "Int128";
            case "global::System.UInt128": return "UInt128";
            case "global::System.Numerics.Complex": return "Complex";
        }
        return null;
    }

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
}
