using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace FluxApps.Testing;

/// <summary>
/// Compiles user code against net10.0 and the FluxApps runtime and runs the real generator over it.
/// One harness, linked into the generator tests and the analyzer tests, so both judge the same output.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>The user assembly's name: it is part of the generated registry and serializer class names.</summary>
    public const string AssemblyName = "UserAssembly";

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    /// <summary>Nullable enabled and unsafe allowed, as the code users write may need.</summary>
    public static CSharpCompilationOptions CompilationOptions { get; } =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true);

    public static CSharpCompilation Compile(params string[] sources) => Compile(ParseOptions, sources);

    /// <summary>Each source is one file, /0/Test0.cs, /0/Test1.cs, ...</summary>
    public static CSharpCompilation Compile(CSharpParseOptions parseOptions, params string[] sources) =>
        CSharpCompilation.Create(AssemblyName,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parseOptions, path: $"/0/Test{i}.cs")),
            TestReferences.All,
            CompilationOptions);

    /// <summary>A driver that records every tracked step, for the caching tests.</summary>
    public static GeneratorDriver CreateDriver(CSharpParseOptions? parseOptions = null) =>
        CSharpGeneratorDriver.Create([new FluxAppGenerator().AsSourceGenerator()], parseOptions: parseOptions ?? ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>The generator's output added to <paramref name="compilation"/>; <paramref name="crash"/> is the generator's exception, if any.</summary>
    public static Compilation Generate(Compilation compilation, out GeneratorRunResult result, out Exception? crash)
    {
        var parseOptions = compilation.SyntaxTrees.FirstOrDefault()?.Options as CSharpParseOptions;
        var driver = CreateDriver(parseOptions).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        result = driver.GetRunResult().Results.Single();
        crash = result.Exception;
        return output;
    }

    /// <summary>Runs the generator, which must neither crash nor report anything; returns the generated files and the compilation with them added.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources) => Run(Compile(sources));

    /// <inheritdoc cref="Run(string[])"/>
    public static (GeneratorRunResult Result, Compilation Output) Run(Compilation compilation)
    {
        var output = Generate(compilation, out var result, out var crash);
        Assert.Null(crash);
        Assert.Empty(result.Diagnostics);
        return (result, output);
    }

    /// <summary>Errors and warnings of a compilation, as text (empty when it compiles cleanly).</summary>
    public static string[] Problems(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToArray();

    /// <summary>
    /// Compares generated files with the expected files in Snapshots/&lt;name&gt;/ beside the calling test.
    /// Set FLUXAPPS_UPDATE_SNAPSHOTS=1 to rewrite them after an intended change.
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
            IEnumerable<string> expected = Directory.GetFiles(dir).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal);
            Assert.Equal(expected, result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        }
    }
}
