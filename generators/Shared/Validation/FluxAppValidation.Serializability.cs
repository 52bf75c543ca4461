#nullable enable
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>FLUX006 in depth: types the serializers could write but not rebuild whole, and types that do not exist yet.</summary>
internal static partial class FluxAppValidation
{
    /// <summary>
    /// Adds the shapes <paramref name="type"/> needs to <paramref name="typeShapes"/>; returns why a value of it
    /// cannot travel to a job and back whole, or null when it can.
    /// </summary>
    private static string? WhyNotSerializable(TypeShapeBuilder typeShapes, ITypeSymbol type) =>
        WithoutRepeatedPath(typeShapes.Add(type), type) ?? WhyStateIsLost(typeShapes, type);

    /// <summary>
    /// The serializers rebuild an object from the members its shape lists: public properties and
    /// fields that can be set, or that match a constructor parameter. A type whose state lives
    /// elsewhere would arrive empty, without any error: a BigInteger as 0, a ReadOnlyMemory as
    /// empty, a class with <c>{ get; private set; }</c> with defaults. This finds such a type among
    /// the object shapes <paramref name="type"/> needs; null when every one of them travels whole.
    /// </summary>
    private static string? WhyStateIsLost(TypeShapeBuilder builder, ITypeSymbol type)
    {
        var shapes = new Dictionary<string, TypeShape>(StringComparer.Ordinal);
        foreach (var shape in builder.Shapes) shapes[shape.Key] = shape;

        // The types the value is made of, as the shapes are: through elements, type arguments and object members.
        var reachable = new Dictionary<string, ITypeSymbol>(StringComparer.Ordinal);
        var pending = new Stack<ITypeSymbol>();
        pending.Push(type);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            string key = TypeShapeBuilder.KeyOf(current);
            if (reachable.ContainsKey(key) || !shapes.TryGetValue(key, out var shape)) continue;
            reachable.Add(key, current);
            if (current is IArrayTypeSymbol array) pending.Push(array.ElementType);
            if (current is not INamedTypeSymbol named) continue;
            foreach (var argument in named.TypeArguments) pending.Push(argument);
            if (shape.Kind != ShapeKind.Object) continue;
            foreach (var member in InstanceMembers(named))
            {
                if (member is IPropertySymbol property) pending.Push(property.Type);
                else if (member is IFieldSymbol field) pending.Push(field.Type);
            }
        }

        foreach (var pair in reachable)
        {
            if (pair.Value is not INamedTypeSymbol named || named.IsTupleType || shapes[pair.Key].Kind != ShapeKind.Object) continue;
            var carried = new HashSet<string>(shapes[pair.Key].Members.Select(m => m.Name), StringComparer.Ordinal);
            var members = InstanceMembers(named).ToList();
            string name = Display(named);
            if (named.Locations.Any(l => l.IsInSource))
            {
                // Auto-properties show where state is; computed properties and explicit fields set from
                // constructor parameters may rebuild it, so only the former are judged one by one.
                foreach (var field in members.OfType<IFieldSymbol>())
                {
                    if (field.AssociatedSymbol is IPropertySymbol { DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } property
                        && !carried.Contains(property.Name))
                        return $"{name}.{property.Name} can be read but has no public setter and no constructor parameter of that name, so its value would be lost on the way; make it {{ get; set; }} or {{ get; init; }}, or add a constructor parameter '{CamelCase(property.Name)}'";
                    if (field.AssociatedSymbol is null && field.DeclaredAccessibility == Accessibility.Public && !carried.Contains(field.Name))
                        return $"{name}.{field.Name} is a readonly field that no constructor parameter sets, so its value would be lost on the way; remove 'readonly', or add a constructor parameter '{CamelCase(field.Name)}'";
                }
                if (carried.Count == 0 && members.OfType<IFieldSymbol>().Any())
                    return $"{name} keeps its state in non-public fields, which FluxApps cannot carry: it would arrive empty; expose the data as public properties or use a record";
            }
            else if (carried.Count == 0 && members.Any(m => m.DeclaredAccessibility == Accessibility.Public && m is IPropertySymbol { IsIndexer: false } or IFieldSymbol))
            {
                return $"{name} has no public property or field that can be set or passed to its constructor: FluxApps cannot rebuild it, and it would arrive as an empty value; pass the data it holds instead (for example an array or a string)";
            }
        }
        return null;
    }

    private static string CamelCase(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name.Substring(1);

    /// <summary>The instance fields and properties of a type and its base types (not object or ValueType).</summary>
    private static IEnumerable<ISymbol> InstanceMembers(INamedTypeSymbol type)
    {
        for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                if (member.IsStatic) continue;
                if (member is IFieldSymbol { IsConst: false } or IPropertySymbol) yield return member;
            }
        }
    }

    /// <summary>"Stream: Stream is a stream, ..." reads "Stream is a stream, ...": the path adds nothing when the reason starts with it.</summary>
    private static string? WithoutRepeatedPath(string? error, ITypeSymbol type)
    {
        if (error is null) return null;
        string path = Display(type);
        return error.StartsWith(path + ": " + path + " ", StringComparison.Ordinal) ? error.Substring(path.Length + 2) : error;
    }

    /// <summary>
    /// True when <paramref name="type"/>, its type arguments, elements or the public members of its
    /// source-declared types mention a type that does not exist (yet): the compiler reports that.
    /// </summary>
    private static bool ContainsUnknownType(ITypeSymbol type)
    {
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        var pending = new Stack<ITypeSymbol>();
        pending.Push(type);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (!seen.Add(current)) continue;
            switch (current)
            {
                case { TypeKind: TypeKind.Error }:
                    return true;
                case IArrayTypeSymbol array:
                    pending.Push(array.ElementType);
                    break;
                case IPointerTypeSymbol pointer:
                    pending.Push(pointer.PointedAtType);
                    break;
                case INamedTypeSymbol named:
                    foreach (var argument in named.TypeArguments) pending.Push(argument);
                    if (!named.Locations.Any(l => l.IsInSource)) break; // metadata types are complete
                    foreach (var member in named.GetMembers())
                    {
                        if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public) continue;
                        if (member is IPropertySymbol property) pending.Push(property.Type);
                        else if (member is IFieldSymbol field) pending.Push(field.Type);
                    }
                    if (named.BaseType is not null) pending.Push(named.BaseType);
                    break;
            }
        }
        return false;
    }
}
