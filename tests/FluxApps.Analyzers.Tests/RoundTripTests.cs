using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Runtime.Loader;
using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using FluxApps.Serialization;
using Microsoft.CodeAnalysis;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>
/// FLUX006 agrees with what the runtime really serializes: for types the analyzers accept, the
/// generated serializers bring a value back equal to what was sent.
/// </summary>
public class RoundTripTests
{
    /// <summary>(type, sample value, equality of a and b) — each type is the parameter and result of an app.</summary>
    public static TheoryData<string, string, string> AcceptedTypes() => new()
    {
        { "Sample", "new Sample(\"a\", new[] { 1.5, 2 }, Mode.Exact, new Sample(\"b\", new double[0], Mode.Fast, null))", "a.ToString() == b.ToString() && a.Values.SequenceEqual(b.Values) && a.Next!.Name == b.Next!.Name" },
        { "Settings", "new Settings { Steps = 3, Tags = { \"x\", \"y\" } }", "a.Steps == b.Steps && a.Tags.SequenceEqual(b.Tags)" },
        { "Mutable", "new Mutable { X = 1, Y = 2 }", "a.X == b.X && a.Y == b.Y" },
        { "Tree", "new Tree { Label = \"root\", Children = { new Tree { Label = \"leaf\" } } }", "b.Label == \"root\" && b.Children.Single().Label == \"leaf\"" },
        { "(int Count, string Name)", "(3, \"n\")", "a == b" },
        { "KeyValuePair<string, int>", "new KeyValuePair<string, int>(\"k\", 4)", "a.Key == b.Key && a.Value == b.Value" },
        { "Dictionary<string, List<int>>", "new Dictionary<string, List<int>> { [\"a\"] = new() { 1, 2 } }", "b[\"a\"].SequenceEqual(a[\"a\"])" },
        { "int[][]", "new[] { new[] { 1 }, new[] { 2, 3 } }", "a.Length == b.Length && a[1].SequenceEqual(b[1])" },
        { "HashSet<Guid>", "new HashSet<Guid> { Guid.Empty }", "a.SetEquals(b)" },
        { "IEnumerable<int>", "Enumerable.Range(0, 3)", "a.SequenceEqual(b)" },
        { "Mode?", "Mode.Exact", "a == b" },
        { "Tuple<int, string>", "Tuple.Create(1, \"x\")", "a.Equals(b)" },
        { "Version", "new Version(1, 2, 3, 4)", "a.Equals(b)" },
        { "WithInit", "new WithInit(5) { Label = \"l\" }", "a.Value == b.Value && a.Label == b.Label" },
        { "Particle", "new Particle(3, 2.5)", "a.Id == b.Id && a.Mass == b.Mass" },
    };

    private const string Prelude = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Numerics;
        using FluxApps;

        public enum Mode { Fast, Exact }
        public sealed record Sample(string Name, double[] Values, Mode Mode, Sample? Next);
        public sealed class Settings { public int Steps { get; set; } public List<string> Tags { get; init; } = new(); }
        public struct Mutable { public int X; public int Y; }
        public sealed class Tree { public string Label { get; set; } = ""; public List<Tree> Children { get; set; } = new(); }
        public sealed record WithInit(int Value) { public string Label { get; init; } = ""; }
        public sealed class Particle
        {
            public Particle(int id, double mass) { Id = id; _mass = mass; }
            private readonly double _mass;
            public int Id { get; }
            public double Mass => _mass;
            public double Weight => _mass * 9.81;
        }

        """;

    [Theory]
    [MemberData(nameof(AcceptedTypes))]
    public Task AcceptedType_RoundTrips(string type, string sample, string equality) => RoundTrip(type, sample, equality);

    /// <summary>
    /// Emits a program with one app taking and returning <paramref name="type"/>, checks the analyzers
    /// accept it, then writes <paramref name="sample"/> with the generated serializer, reads it back and compares.
    /// </summary>
    internal static async Task RoundTrip(string type, string sample, string equality)
    {
        string source = Prelude + $$"""
            public static partial class Apps
            {
                [FluxApp] public static {{type}} Echo({{type}} value) => value;
                public static {{type}} Sample => {{sample}};
                public static bool Same({{type}} a, {{type}} b) => {{equality}};
            }
            """;
        var compilation = GeneratorHarness.Compile(source);
        var crashes = new ConcurrentBag<Exception>();
        var diagnostics = await TestCompilation.AnalyzeAsync(compilation, crashes);
        Assert.Empty(diagnostics.Select(d => d.ToString()));
        var output = GeneratorHarness.Generate(compilation, out _, out var crash);
        Assert.Null(crash);

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var context = new AssemblyLoadContext("RoundTrip", isCollectible: true);
        try
        {
            image.Position = 0;
            var assembly = context.LoadFromStream(image);
            var apps = assembly.GetType("Apps")!;
            object? value = apps.GetProperty("Sample")!.GetValue(null);
            var parameterType = apps.GetMethod("Echo")!.GetParameters()[0].ParameterType;

            var writer = new FluxWriter();
            var serializers = assembly.GetTypes().Single(t => t.Name.StartsWith("FluxAppsSerializers_", StringComparison.Ordinal));
            var write = serializers.GetMethods().Single(m => m.Name.StartsWith("Write_", StringComparison.Ordinal) && m.GetParameters()[1].ParameterType == parameterType);
            var read = serializers.GetMethods().Single(m => m.Name.StartsWith("Read_", StringComparison.Ordinal) && m.ReturnType == parameterType);
            write.Invoke(null, [writer, value]);
            object? back = read.Invoke(null, [new FluxReader(writer.ToArray())]);
            Assert.True((bool)apps.GetMethod("Same")!.Invoke(null, [value, back])!, $"{type} did not survive the round trip");
        }
        finally
        {
            context.Unload();
        }
    }
}
