using System.Collections;
using System.Reflection;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FluxApps.Generators.Tests;

public sealed class GeneratorTests
{
    private const string Physics = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using FluxApps;

        namespace Demo;

        public enum Mode { Fast, Exact = 4 }

        public record Settings(int Steps, double Dt, Mode Mode, List<string> Tags, Dictionary<string, double[]>? Extra);

        public static partial class Physics
        {
            [FluxApp(Cpus = 4, Gpus = 1, MpiRanks = 8, Nodes = 2, TimeLimit = "10m", Queue = "batch", Urgency = 20, Name = "sim")]
            public static double Simulate(int steps, double dt = 0.01) => steps * dt;

            [FluxApp]
            internal static async Task<Settings?> Tune(Settings settings, int? seed, string options)
            {
                await Task.Yield();
                return settings;
            }

            [FluxApp]
            public static void Log(string message, Mode mode = Mode.Exact) { }

            [FluxApp]
            public static Task Flush() => Task.CompletedTask;

            [FluxApp(MpiRanks = 4)]
            public static FluxCommand Launch(string input) => new("lmp", "-in", input);

            [FluxApp]
            public static ValueTask<(int Count, string Text)> Pair(int[][] matrix, HashSet<long> ids, IEnumerable<byte[]> blobs) => new((0, ""));
        }
        """;

    private const string Nested = """
        using FluxApps;

        public partial class Outer
        {
            internal partial struct Middle
            {
                public partial record Inner
                {
                    [FluxApp(MpiRanks = 2)]
                    public static string Where(string @class) => @class;
                }
            }
        }
        """;

    private const string Cancellable = """
        using System.Threading;
        using System.Threading.Tasks;
        using FluxApps;

        namespace Demo;

        public static partial class Sweep
        {
            [FluxApp(Pool = "sweep")]
            public static async Task<int> Search(int depth, CancellationToken token)
            {
                await Task.Delay(depth, token);
                return depth;
            }

            [FluxApp]
            public static void Spin(CancellationToken cancellationToken) => cancellationToken.WaitHandle.WaitOne();

            [FluxApp(MpiRanks = 2)]
            public static FluxCommand Run(string input, CancellationToken token) => new("run", input);

            [FluxWorkerStartup]
            internal static void LoadModel() { }

            [FluxWorkerStartup]
            public static Task ConnectAsync() => Task.CompletedTask;
        }

        internal static class Telemetry
        {
            [FluxWorkerStartup]
            public static ValueTask Start() => default;
        }
        """;

    [Fact]
    public void AppsTakingTheCallsTokenAndWorkerStartupsMatchTheSnapshot()
    {
        var (result, output) = GeneratorHarness.Run(Cancellable);
        Assert.Empty(GeneratorHarness.Problems(output));
        GeneratorHarness.VerifySnapshot(result, "Cancellable");
    }

    [Fact]
    public void TheStubDoesNotRepeatTheAppsTokenAndFeedsItItsOwn()
    {
        var (result, output) = GeneratorHarness.Run(Cancellable);
        var sweep = output.GetTypeByMetadataName("Demo.Sweep")!;
        var search = (IMethodSymbol)sweep.GetMembers("SearchAsync").Single();
        Assert.Equal(["depth", "options", "cancellationToken"], search.Parameters.Select(p => p.Name));
        var spin = (IMethodSymbol)sweep.GetMembers("SpinAsync").Single();
        // The app's own parameter is called cancellationToken: the stub's is renamed, and feeds it.
        Assert.Equal(["options", "fluxCancellationToken"], spin.Parameters.Select(p => p.Name));
        string text = result.GeneratedSources.Single(s => s.HintName.StartsWith("Demo.Sweep")).SourceText.ToString();
        // A command app builds its command in the caller: the stub's own token goes straight to it.
        Assert.Contains("Run(input, cancellationToken), options, cancellationToken)", text);
        Assert.Contains("Spin(__fluxCancel)", text);
        Assert.Contains("Search(__fluxArg0, __fluxCancel)", text);
        string registry = result.GeneratedSources.Single(s => s.HintName == "FluxApps.Registry.g.cs").SourceText.ToString();
        Assert.Contains("RegisterWorkerStartup(\"Demo.Sweep.LoadModel\"", registry);
        Assert.Contains("RegisterWorkerStartup(\"Demo.Telemetry.Start\"", registry);
    }

    [Fact]
    public void AnAssemblyWithStartupMethodsOnlyStillRegistersThem()
    {
        var (result, output) = GeneratorHarness.Run("using FluxApps; public static class S { [FluxWorkerStartup] public static void Init() { } }");
        Assert.Empty(GeneratorHarness.Problems(output));
        string registry = result.GeneratedSources.Single(s => s.HintName == "FluxApps.Registry.g.cs").SourceText.ToString();
        Assert.Contains("RegisterWorkerStartup(\"S.Init\", static () => { global::S.Init(); return default; });", registry);
    }

    [Theory]
    [InlineData("public void Init() { }")]
    [InlineData("public static void Init(int n) { }")]
    [InlineData("public static int Init() => 1;")]
    [InlineData("public static async void Init() { await System.Threading.Tasks.Task.Yield(); }")]
    [InlineData("private static void Init() { }")]
    [InlineData("public static void Init<T>() { }")]
    public void InvalidStartupMethodsAreNotRegistered(string member)
    {
        var (result, _) = GeneratorHarness.Run("using FluxApps; public partial class S { [FluxWorkerStartup] " + member + " }");
        Assert.True(result.GeneratedSources.IsEmpty);
    }

    [Fact]
    public void StubsEntryPointsSerializersAndRegistryMatchTheSnapshot()
    {
        var (result, output) = GeneratorHarness.Run(Physics);
        Assert.Empty(GeneratorHarness.Problems(output));
        GeneratorHarness.VerifySnapshot(result, "Physics");
    }

    [Fact]
    public void NestedTypesInTheGlobalNamespaceMatchTheSnapshot()
    {
        var (result, output) = GeneratorHarness.Run(Nested);
        Assert.Empty(GeneratorHarness.Problems(output));
        GeneratorHarness.VerifySnapshot(result, "Nested");
    }

    [Fact]
    public void StubKeepsTheMethodsSignatureAccessibilityAndDefaults()
    {
        var (_, output) = GeneratorHarness.Run(Physics);
        var physics = output.GetTypeByMetadataName("Demo.Physics")!;
        var simulate = (IMethodSymbol)physics.GetMembers("SimulateAsync").Single();
        Assert.Equal(Accessibility.Public, simulate.DeclaredAccessibility);
        Assert.Equal("FluxApps.FluxFuture<double>", simulate.ReturnType.ToDisplayString());
        Assert.Equal(["steps", "dt", "options", "cancellationToken"], simulate.Parameters.Select(p => p.Name));
        Assert.Equal(0.01, simulate.Parameters[1].ExplicitDefaultValue);

        var tune = (IMethodSymbol)physics.GetMembers("TuneAsync").Single();
        Assert.Equal(Accessibility.Internal, tune.DeclaredAccessibility);
        Assert.Equal("FluxApps.FluxFuture<Demo.Settings?>", tune.ReturnType.ToDisplayString());
        // The user's own parameter is called "options": the stub's is renamed, not duplicated.
        Assert.Equal(["settings", "seed", "options", "fluxOptions", "cancellationToken"], tune.Parameters.Select(p => p.Name));

        Assert.Equal("FluxApps.FluxFuture", ((IMethodSymbol)physics.GetMembers("LogAsync").Single()).ReturnType.ToDisplayString());
        Assert.Equal("FluxApps.FluxFuture", ((IMethodSymbol)physics.GetMembers("FlushAsync").Single()).ReturnType.ToDisplayString());
        Assert.Equal("FluxApps.FluxFuture<FluxApps.FluxCommandResult>", ((IMethodSymbol)physics.GetMembers("LaunchAsync").Single()).ReturnType.ToDisplayString());
        Assert.Equal("FluxApps.FluxFuture<(int Count, string Text)>", ((IMethodSymbol)physics.GetMembers("PairAsync").Single()).ReturnType.ToDisplayString());
    }

    [Theory]
    [InlineData("public double Bad(int x) => x;", "not static")]
    [InlineData("public static T Bad<T>(T x) => x;", "generic")]
    [InlineData("public static void Bad(ref int x) { }", "ref")]
    [InlineData("public static void Bad(out int x) { x = 1; }", "out")]
    [InlineData("public static void Bad(params int[] x) { }", "params")]
    [InlineData("public static void Bad(System.Span<int> x) { }", "ref struct")]
    [InlineData("public static void Bad(System.Action x) { }", "delegate")]
    [InlineData("public static object Bad() => 1;", "object")]
    [InlineData("public static void Bad(System.IO.Stream s) { }", "stream")]
    [InlineData("public static int[,] Bad() => new int[1,1];", "multi-dimensional")]
    [InlineData("public static void Bad(System.Collections.Generic.IComparer<int> c) { }", "interface")]
    [InlineData("[FluxApp(Cpus = 0)] public static void Bad2() { }", "Cpus")]
    [InlineData("public static void Bad(System.Threading.CancellationToken t, int x) { }", "token not last")]
    [InlineData("public static void Bad(ref System.Threading.CancellationToken t) { }", "token by ref")]
    [InlineData("public static int Bad(int n) => n; [FluxApp] public static int Bad(int n, System.Threading.CancellationToken t) => n;", "same stub")]
    public void InvalidMethodsGetNoGeneratedCode(string member, string why)
    {
        string source = "using FluxApps; public static partial class C { " + (member.StartsWith('[') ? member : "[FluxApp] " + member) + " }";
        if (member.Contains("double Bad(int x)")) source = source.Replace("static partial class", "partial class");
        var (result, output) = GeneratorHarness.Run(source);
        Assert.True(result.GeneratedSources.IsEmpty, $"expected no code for a method that is invalid ({why})");
        Assert.DoesNotContain(GeneratorHarness.Problems(output), p => p.Contains("error CS", StringComparison.Ordinal) && !p.Contains("CS0177"));
    }

    [Fact]
    public void NonPartialContainingTypeGetsNoCode()
    {
        var (result, _) = GeneratorHarness.Run("using FluxApps; public static class C { [FluxApp] public static int A() => 1; }");
        Assert.True(result.GeneratedSources.IsEmpty);
        (result, _) = GeneratorHarness.Run("using FluxApps; public class O { public static partial class C { [FluxApp] public static int A() => 1; } }");
        Assert.True(result.GeneratedSources.IsEmpty);
    }

    [Theory]
    [InlineData("using FluxApps; public static partial class C { [FluxApp] public static int A(")]
    [InlineData("using FluxApps; public static partial class C { [FluxApp(Cpus = )] public static int A() => 1; }")]
    [InlineData("using FluxApps; public static partial class C { [FluxApp] public static Unknown A(Missing m) => null; }")]
    [InlineData("using FluxApps; public static partial class C { [FluxApp] public static int }")]
    [InlineData("using FluxApps; [FluxApp] public static int A() => 1;")]
    public void HalfTypedCodeNeverCrashesTheGenerator(string source)
    {
        var compilation = GeneratorHarness.Compile(source);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var run = driver.GetRunResult().Results.Single();
        Assert.Null(run.Exception);
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public void UnrelatedEditsLeaveEveryTrackedStepCached()
    {
        var compilation = GeneratorHarness.Compile(Physics, "public class Unrelated { }");
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        AssertModelsHoldNoCompilerObjects(first);

        // Edit a different file, as typing elsewhere in the project does.
        var old = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText("public class Unrelated { int x; }", GeneratorHarness.ParseOptions, path: old.FilePath));
        driver = driver.RunGenerators(edited);
        var second = driver.GetRunResult().Results.Single();

        foreach (string step in new[] { FluxAppGenerator.TrackingNames.ValidApps, FluxAppGenerator.TrackingNames.AllApps })
        {
            Assert.True(second.TrackedSteps.ContainsKey(step), $"step {step} not tracked");
            foreach (var run in second.TrackedSteps[step])
                foreach (var (_, reason) in run.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step} was {reason}");
        }
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void EditingAnAppsAttributeRegeneratesIt()
    {
        var compilation = GeneratorHarness.Compile(Physics);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(Physics.Replace("Cpus = 4", "Cpus = 6"), GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);
        var result = driver.GetRunResult().Results.Single();
        string physics = result.GeneratedSources.Single(s => s.HintName.StartsWith("Demo.Physics")).SourceText.ToString();
        Assert.Contains("cpus: 6", physics);
    }

    private const string Cached = """
        using FluxApps;

        namespace Demo;

        public record Point(double X, double Y);

        public record Shape(string Name, Point[] Corners);

        public static partial class Geometry
        {
            [FluxApp(Cache = true)]
            public static double Area(Shape shape)
            {
                // the area, by the shoelace formula
                return 0.5 * shape.Corners.Length;
            }

            [FluxApp(Cache = true, Retries = 2, RetryOnAppException = true)]
            public static int Count(int n) => n + 1;
        }
        """;

    /// <summary>The code hash the generator put into each app's descriptor, by method name.</summary>
    private static Dictionary<string, string> CodeHashes(string source)
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Empty(GeneratorHarness.Problems(output));
        string text = result.GeneratedSources.Single(s => s.HintName.StartsWith("Demo.Geometry")).SourceText.ToString();
        var hashes = new Dictionary<string, string>();
        foreach (var match in System.Text.RegularExpressions.Regex.Matches(text, @"FluxAppDescriptor\(\s*""[^""]*\.(\w+)\(.*?CodeHash = ""([0-9a-f]+)""",
                     System.Text.RegularExpressions.RegexOptions.Singleline).Cast<System.Text.RegularExpressions.Match>())
            hashes[match.Groups[1].Value] = match.Groups[2].Value;
        Assert.Equal(2, hashes.Count);
        return hashes;
    }

    [Fact]
    public void DescriptorCarriesCacheRetriesAndACodeHash()
    {
        var (result, _) = GeneratorHarness.Run(Cached);
        string text = result.GeneratedSources.Single(s => s.HintName.StartsWith("Demo.Geometry")).SourceText.ToString();
        Assert.Contains("Retries = 2,", text);
        Assert.Contains("RetryOnAppException = true,", text);
        Assert.Contains("Cache = true,", text);
        var hashes = CodeHashes(Cached);
        Assert.Matches("^[0-9a-f]{32}$", hashes["Area"]);
        Assert.NotEqual(hashes["Area"], hashes["Count"]);
        Assert.Equal(hashes, CodeHashes(Cached)); // deterministic
    }

    [Theory]
    [InlineData("return 0.5 * shape.Corners.Length;", "return 0.25 * shape.Corners.Length;")]   // the method's body
    [InlineData("double Area(Shape shape)", "double Area(Shape figure)")]                      // its signature
    [InlineData("record Shape(string Name, Point[] Corners)", "record Shape(string Name, Point[] Corners, int Sides)")] // a parameter record
    [InlineData("record Point(double X, double Y)", "record Point(float X, float Y)")]          // a record inside it
    public void TheCodeHashChangesWithTheMethodOrTheTypesItTakes(string before, string after)
    {
        var original = CodeHashes(Cached);
        var edited = CodeHashes(Cached.Replace(before, after).Replace("shape.Corners", after.Contains("figure") ? "figure.Corners" : "shape.Corners"));
        Assert.NotEqual(original["Area"], edited["Area"]);
        Assert.Equal(original["Count"], edited["Count"]); // another app's entries stay valid
    }

    [Theory]
    [InlineData("// the area, by the shoelace formula", "// rewritten comment")]  // comments
    [InlineData("return 0.5 * shape.Corners.Length;", "return   0.5*shape.Corners.Length ;")] // whitespace
    [InlineData("[FluxApp(Cache = true)]", "[FluxApp(Cache = true, Cpus = 4, Retries = 1)]")] // resources and retries
    [InlineData("public static int Count(int n) => n + 1;", "public static int Count(int n) => n + 2;")] // another app
    public void TheCodeHashIgnoresCommentsLayoutAttributesAndOtherApps(string before, string after)
    {
        var original = CodeHashes(Cached);
        var edited = CodeHashes(Cached.Replace(before, after));
        Assert.Equal(original["Area"], edited["Area"]);
    }

    [Fact]
    public void ApplicationsInTwoAssembliesGetDistinctInternalHelpers()
    {
        var (result, _) = GeneratorHarness.Run(Nested);
        string registry = result.GeneratedSources.Single(s => s.HintName == "FluxApps.Registry.g.cs").SourceText.ToString();
        Assert.Contains("FluxAppsRegistry_UserAssembly", registry);
        Assert.Contains("ModuleInitializer", registry);
    }

    private static void AssertModelsHoldNoCompilerObjects(GeneratorRunResult run)
    {
        foreach (var step in run.TrackedSteps[FluxAppGenerator.TrackingNames.ValidApps])
            foreach (var (value, _) in step.Outputs)
                AssertPlainData(value, depth: 0);
    }

    private static void AssertPlainData(object? value, int depth)
    {
        if (value is null || depth > 8) return;
        Assert.False(value is ISymbol or SyntaxNode or Location or Compilation or SemanticModel, $"model holds a {value.GetType().Name}");
        if (value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (value is IEnumerable items)
        {
            foreach (var item in items) AssertPlainData(item, depth + 1);
            return;
        }
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (property.GetIndexParameters().Length == 0)
                AssertPlainData(property.GetValue(value), depth + 1);
    }
}
