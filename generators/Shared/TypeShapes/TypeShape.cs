#nullable enable
using System;

namespace FluxApps.Generators;

/// <summary>How a type is written to a payload.</summary>
internal enum ShapeKind
{
    /// <summary>A FluxWriter/FluxReader primitive (<see cref="TypeShape.Primitive"/> names the method suffix).</summary>
    Primitive,
    Enum,
    Nullable,
    Array,
    List,
    HashSet,
    Dictionary,
    Object,
}

/// <summary>A member of an object shape.</summary>
internal sealed record MemberShape(string Name, string TypeKey, int ConstructorIndex) : IEquatable<MemberShape>;

/// <summary>
/// The serialization plan of one type: only strings and ints, so it is a safe pipeline model.
/// <see cref="Key"/> is the <c>global::</c>-qualified type name without nullable reference annotations.
/// </summary>
internal sealed record TypeShape(
    string Key,
    ShapeKind Kind,
    string? Primitive,
    string? Element,
    string? Value,
    bool IsValueType,
    bool HasCount,
    EquatableArray<MemberShape> Members,
    int ConstructorArity) : IEquatable<TypeShape>;
