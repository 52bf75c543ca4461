extern alias Generators;

using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using FluxAppGenerator = Generators::FluxApps.Generators.FluxAppGenerator;

namespace FluxApps.Analyzers.Tests.Infrastructure;

/// <summary>Compiles sources, runs the real generator and the analyzers over them, and reports crashes of either.</summary>
internal static class GeneratorHarness
{
    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create("UserApps",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, TestCompilation.ParseOptions, path: $"/0/Test{i}.cs")),
            TestReferences.All,
            TestCompilation.Options(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)));

    /// <summary>The generator's output added to <paramref name="compilation"/>; <paramref name="crash"/> is the generator's exception, if any.</summary>
    public static Compilation Generate(Compilation compilation, out GeneratorRunResult result, out Exception? crash)
    {
        var driver = CSharpGeneratorDriver.Create([new FluxAppGenerator().AsSourceGenerator()], parseOptions: TestCompilation.ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        result = driver.GetRunResult().Results.Single();
        crash = result.Exception;
        return output;
    }

    /// <summary>Both analyzers' diagnostics; <paramref name="crashes"/> collects every exception an analyzer threw.</summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, ConcurrentBag<Exception> crashes)
    {
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]),
            onAnalyzerException: (exception, _, _) => crashes.Add(exception),
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        var withAnalyzers = compilation.WithAnalyzers([.. TestCompilation.Analyzers], options);
        return await withAnalyzers.GetAnalyzerDiagnosticsAsync();
    }
}
