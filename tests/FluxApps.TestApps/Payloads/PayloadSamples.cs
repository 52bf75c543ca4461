using System;
using System.Collections.Generic;
using System.Linq;

namespace FluxApps.TestApps.Payloads;

/// <summary>Valid values of the test apps' argument and result types, with nulls, empties, nesting and non-ASCII text.</summary>
public static class PayloadSamples
{
    /// <summary>Every kind of zero-size (or one-byte) element, several of each, nested and empty collections included.</summary>
    public static ZeroSizeValues ZeroSize(int count = 5) => new(
        Nothings: new Nothing[count],
        Units: Enumerable.Repeat(new Unit(), count).ToList(),
        Tuples: Enumerable.Repeat(default(ValueTuple), count).ToList(),
        UnitSet: [new Unit()],
        Empties: Enumerable.Range(0, count).Select(_ => new Empty()).ToArray(),
        EmptyStrings: Enumerable.Repeat("", count).ToList(),
        Nested: [[], new List<Nothing>(new Nothing[count]), [], []],
        Jagged: [[], [], [1], []],
        Wrappers: new Wrapper[count],
        Pairs: new (Nothing, ValueTuple)[count],
        ByKey: new Dictionary<int, Nothing[]> { [1] = [], [2] = new Nothing[count] },
        UnitMap: new Dictionary<Unit, Unit> { [new Unit()] = new Unit() });

    /// <summary>A chain of measurements <paramref name="depth"/> long, with tags, metadata and nulls.</summary>
    public static Measurement Measurement(int depth = 3)
    {
        Measurement? m = null;
        for (int i = 0; i < depth; i++)
        {
            m = new Measurement($"probe {i} é✓", [1.5, -0.0, double.NaN, i], (Phase)(i % 3), new DateTime(2026, 11, 30, 1, 2, 3, DateTimeKind.Utc),
                new Guid(i, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), TimeSpan.FromSeconds(i), i % 2 == 0 ? null : i)
            {
                Tags = ["a", "", "ünï"],
                Metadata = new Dictionary<string, double> { ["x"] = i, ["y"] = -i },
                Previous = m,
            };
        }
        return m!;
    }

    /// <summary>A grid with jagged cells, an index of measurement lists and every scalar member set.</summary>
    public static Grid Grid() => new()
    {
        Width = 3,
        Height = 2,
        Cells = [[1, 2, 3], [], [4.5]],
        Index = new Dictionary<int, List<Measurement>> { [7] = [Measurement(1)], [8] = [] },
        Price = -12.345m,
        Stamp = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)),
        Marker = 'λ',
        Flags = Options.Fast | Options.Precise,
    };

    /// <summary>A particle with a trail, labels and half, date and time members.</summary>
    public static Particle Particle() => new(42, new Point(1, 2))
    {
        Trail = [new Point(0, 0), new Point(-1, 0.5)],
        Labels = ["hot", "fast"],
        Seed = ulong.MaxValue,
        Mass = 1.25f,
        Charge = -1,
        Spin = (Half)0.5,
        Day = new DateOnly(2026, 11, 30),
        Time = new TimeOnly(23, 59, 59),
    };

    /// <summary>A tree of structs <paramref name="depth"/> levels deep, two children per level.</summary>
    public static Tree Tree(int depth)
    {
        var tree = new Tree { Value = 0 };
        for (int i = 1; i < depth; i++) tree = new Tree { Value = i, Children = [tree, new Tree { Value = -i }] };
        return tree;
    }

    /// <summary>A chain of nodes <paramref name="depth"/> levels deep.</summary>
    public static Node Node(int depth)
    {
        var node = new Node("leaf", []);
        for (int i = 1; i < depth; i++) node = new Node("n" + i, [node, new Node("", [])]);
        return node;
    }
}
