using System;
using System.Collections.Generic;

namespace FluxApps.TestApps;

/// <summary>A struct without fields: it takes no payload bytes.</summary>
public readonly struct Nothing { }

/// <summary>A record struct without members: no payload bytes either.</summary>
public readonly record struct Unit;

/// <summary>A class record without members: one presence byte.</summary>
public sealed record Empty;

/// <summary>A struct made only of zero-size members: zero-size itself.</summary>
public struct Wrapper
{
    public Nothing First;
    public ValueTuple Second;
}

/// <summary>Collections whose elements take no payload bytes, or next to none.</summary>
public sealed record ZeroSizeValues(
    Nothing[] Nothings,
    List<Unit> Units,
    List<ValueTuple> Tuples,
    HashSet<Unit> UnitSet,
    Empty[] Empties,
    List<string> EmptyStrings,
    List<List<Nothing>> Nested,
    int[][] Jagged,
    Wrapper[] Wrappers,
    (Nothing, ValueTuple)[] Pairs,
    Dictionary<int, Nothing[]> ByKey,
    Dictionary<Unit, Unit> UnitMap);

/// <summary>A struct that contains itself through an array: nesting the reader must bound.</summary>
public struct Tree
{
    public int Value;
    public Tree[]? Children;
}

/// <summary>A class that contains itself through a list.</summary>
public sealed record Node(string Label, List<Node> Children);

/// <summary>Apps whose payloads the serialization tests and the payload fuzzer exercise; all of them only echo or count.</summary>
public static partial class PayloadApps
{
    [FluxApp]
    public static ZeroSizeValues EchoZeroSize(ZeroSizeValues values) => values;

    /// <summary>A zero-size collection as the last argument: no payload bytes follow its count.</summary>
    [FluxApp]
    public static int CountNothings(int offset, Nothing[] items) => offset + items.Length;

    [FluxApp]
    public static List<ValueTuple> EchoTuples(List<ValueTuple> tuples) => tuples;

    [FluxApp]
    public static string[] EchoStrings(string[] texts) => texts;

    [FluxApp]
    public static Tree EchoTree(Tree tree) => tree;

    [FluxApp]
    public static Node EchoNode(Node node) => node;
}
