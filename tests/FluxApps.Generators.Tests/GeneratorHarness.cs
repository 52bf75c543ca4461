using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.CompilerServices;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FluxApps.Generators.Tests;

/// <summary>Compiles user code with the FluxApps runtime referenced and runs the generator over it.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .ToList();
        paths.Add(typeof(FluxApps.FluxAppAttribute).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create("UserAssembly",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create([new FluxAppGenerator().AsSourceGenerator()], parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the generated files and the compilation with them added.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources)
    {
        var compilation = Compile(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        Assert.Empty(diagnostics);
        return (driver.GetRunResult().Results.Single(), output);
    }

    /// <summary>Errors and warnings of a compilation, as text (empty when it compiles cleanly).</summary>
    public static string[] Problems(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToArray();

    /// <summary>
    /// Compares generated files with the expected files in Snapshots/&lt;name&gt;/. Set
    /// FLUXAPPS_UPDATE_SNAPSHOTS=1 to rewrite them after an intended change.
    /// </summary>
    public static void VerifySnapshot(GeneratorRunResult result, string name, [CallerFilePath] string callerFile = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots", name);
        bool update = Environment.GetEnvironmentVariable("FLUXAPPS_UPDATE_SNAPSHOTS") == "1";
        if (update)
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.CreateDirectory(dir);
        }
        foreach (var source in result.GeneratedSources)
        {
            string path = Path.Combine(dir, source.HintName);
            string actual = source.SourceText.ToString().Replace("\r\n", "\n");
            if (update)
            {
                File.WriteAllText(path, actual);
                continue;
            }
            Assert.True(File.Exists(path), $"No expected file {path}; run with FLUXAPPS_UPDATE_SNAPSHOTS=1 to create it.");
            Assert.Equal(File.ReadAllText(path).Replace("\r\n", "\n"), actual);
        }
        if (!update)
        {
            var expected = Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray();
            Assert.Equal(expected, result.GeneratedSources.Select(s => s.HintName).Order().ToArray());
        }
    }
}
