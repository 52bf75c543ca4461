using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FluxApps.Generators.Tests;

/// <summary>The generated code adds no warnings of its own to a user's build, whatever the user's settings.</summary>
public sealed class GeneratedCodeWarningTests
{
    [Fact]
    public void ObsoleteTypesAndMembersOfTheUser_DoNotWarnInGeneratedCode()
    {
        // The app is obsolete itself, so the user's own code is warning-free: every warning left would be the generator's.
        const string source = """
            using System;
            using FluxApps;

            namespace Demo;

            [Obsolete("use Point")]
            public record OldPoint(double X, double Y);

            public record Shape(string Name)
            {
                [Obsolete("count the corners", error: false)]
                public int Sides { get; set; }

                [Obsolete]
                public OldPoint? Origin { get; set; }
            }

            public static partial class Geometry
            {
                [Obsolete("use AreaV2")]
                [FluxApp]
                public static double Area(OldPoint corner, Shape shape) => corner.X * shape.Name.Length;

                [FluxApp]
                public static Shape Grow(Shape shape) => shape;
            }
            """;
        var (result, output) = GeneratorHarness.Run(source);
        Assert.NotEmpty(result.GeneratedSources);
        Assert.Empty(GeneratorHarness.Problems(output));
    }

    [Fact]
    public void WithDocumentationDiagnosticsOn_GeneratedPublicMembersAreDocumented()
    {
        // As GenerateDocumentationFile does: every public member of a documented program must be documented (CS1591),
        // and doc comments must be well formed with resolvable crefs (CS1570, CS1574, CS1580, CS1584, ...).
        const string source = """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using FluxApps;

            namespace Demo;

            /// <summary>Settings.</summary>
            /// <param name="Steps">Steps.</param>
            /// <param name="Tags">Tags.</param>
            public record Settings(int Steps, List<string> Tags);

            /// <summary>Apps.</summary>
            public static partial class Physics
            {
                /// <summary>Simulates.</summary>
                /// <param name="steps">Steps.</param>
                /// <param name="dt">Step.</param>
                /// <returns>Energy.</returns>
                [FluxApp(Cpus = 4, MpiRanks = 8, TimeLimit = "10m")]
                public static double Simulate(int steps, double dt = 0.01) => steps * dt;

                /// <summary>Tunes.</summary>
                /// <param name="settings">Settings.</param>
                /// <param name="seed">Seed.</param>
                /// <param name="weights">Weights.</param>
                /// <returns>Better settings.</returns>
                [FluxApp]
                public static Task<Settings?> Tune(Settings settings, int? seed, Dictionary<string, double[]> weights) => Task.FromResult<Settings?>(settings);

                /// <summary>Pairs.</summary>
                /// <param name="matrix">Matrix.</param>
                /// <returns>A pair.</returns>
                [FluxApp]
                public static ValueTask<(int Count, string Text)> Pair(int[][] matrix) => new((0, ""));

                /// <summary>Launches.</summary>
                /// <param name="input">Input.</param>
                /// <returns>The command.</returns>
                [FluxApp(MpiRanks = 4)]
                public static FluxCommand Launch(string input) => new("lmp", "-in", input);

                /// <summary>Nested apps.</summary>
                public static partial class Inner
                {
                    /// <summary>Logs.</summary>
                    /// <param name="class">Text.</param>
                    [FluxApp]
                    public static void Log(string @class) { }
                }
            }
            """;
        var parseOptions = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var compilation = GeneratorHarness.Compile(parseOptions, source);
        Assert.Empty(GeneratorHarness.Problems(compilation)); // the user's code is fully documented
        var (result, output) = GeneratorHarness.Run(compilation);
        Assert.NotEmpty(result.GeneratedSources);
        Assert.Empty(GeneratorHarness.Problems(output));
    }

    [Fact]
    public void DocumentationDiagnostics_ReportAnUndocumentedPublicMember()
    {
        // Guards the test above: in this harness, documentation mode does report a missing comment.
        var parseOptions = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var compilation = GeneratorHarness.Compile(parseOptions, "/// <summary>C.</summary>\npublic static class C { public static void M() { } }");
        Assert.Contains(compilation.GetDiagnostics(), d => d.Id == "CS1591");
    }
}
