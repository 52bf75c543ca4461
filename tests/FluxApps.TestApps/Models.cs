using System;
using System.Collections.Generic;

namespace FluxApps.TestApps;

public enum Phase { Solid, Liquid, Gas = 7 }

[Flags]
public enum Options : byte { None = 0, Fast = 1, Precise = 2 }

/// <summary>A positional record with nested collections and a recursive reference.</summary>
public record Measurement(string Name, double[] Values, Phase Phase, DateTime Taken, Guid Id, TimeSpan Duration, int? Quality)
{
    public List<string> Tags { get; init; } = new();
    public Dictionary<string, double> Metadata { get; init; } = new();
    public Measurement? Previous { get; init; }
}

/// <summary>A plain class with a parameterless constructor and settable properties.</summary>
public class Grid
{
    public int Width { get; set; }
    public int Height { get; set; }
    public double[][] Cells { get; set; } = Array.Empty<double[]>();
    public Dictionary<int, List<Measurement>>? Index { get; set; }
    public decimal Price;
    public DateTimeOffset Stamp { get; set; }
    public char Marker { get; set; }
    public Options Flags { get; set; }
    public int Area => Width * Height;
}

public readonly record struct Point(double X, double Y);

/// <summary>A class whose constructor takes some members and whose other members are init-only.</summary>
public sealed class Particle
{
    public Particle(int id, Point position)
    {
        Id = id;
        Position = position;
    }

    public int Id { get; }
    public Point Position { get; }
    public IReadOnlyList<Point> Trail { get; init; } = Array.Empty<Point>();
    public HashSet<string> Labels { get; init; } = new();
    public ulong Seed { get; init; }
    public float Mass { get; init; }
    public sbyte Charge { get; init; }
    public Half Spin { get; init; }
    public DateOnly Day { get; init; }
    public TimeOnly Time { get; init; }
}

public record Stats(long Count, double Mean, double Min, double Max);
