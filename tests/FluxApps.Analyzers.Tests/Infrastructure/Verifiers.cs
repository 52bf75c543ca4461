using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace FluxApps.Analyzers.Tests.Infrastructure;

/// <summary>
/// Runs both FluxApps analyzers, as the package installs them, over net10.0 with the FluxApps
/// runtime, nullable enabled and the latest C#. Expected diagnostics are the markup in the sources
/// (<c>{|FLUX003:Cpus = 0|}</c>); compiler errors must be marked too, so every test source compiles otherwise.
/// </summary>
internal sealed class AnalyzerTest : CSharpAnalyzerTest<FluxAppAnalyzer, DefaultVerifier>
{
    public AnalyzerTest()
    {
        ReferenceAssemblies = TestCompilation.NoPackageReferences;
        TestState.AdditionalReferences.AddRange(TestReferences.All);
        // Both analyzers support the shared descriptors (FLUX003, ...): they are the same objects.
        MarkupOptions = MarkupOptions.UseFirstDescriptor;
    }

    protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => TestCompilation.Analyzers;

    protected override CompilationOptions CreateCompilationOptions() => TestCompilation.Options((CSharpCompilationOptions)base.CreateCompilationOptions());

    protected override ParseOptions CreateParseOptions() => TestCompilation.ParseOptions;
}

/// <summary>Code-fix tests with the settings of <see cref="AnalyzerTest"/>.</summary>
internal sealed class FixTest<TCodeFix> : CSharpCodeFixTest<FluxAppAnalyzer, TCodeFix, DefaultVerifier>
    where TCodeFix : CodeFixProvider, new()
{
    public FixTest()
    {
        ReferenceAssemblies = TestCompilation.NoPackageReferences;
        TestState.AdditionalReferences.AddRange(TestReferences.All);
        // Both analyzers support the shared descriptors (FLUX003, ...): they are the same objects.
        MarkupOptions = MarkupOptions.UseFirstDescriptor;
    }

    protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => TestCompilation.Analyzers;

    protected override CompilationOptions CreateCompilationOptions() => TestCompilation.Options((CSharpCompilationOptions)base.CreateCompilationOptions());

    protected override ParseOptions CreateParseOptions() => TestCompilation.ParseOptions;
}

/// <summary>Settings shared by every test compilation.</summary>
internal static class TestCompilation
{
    public static DiagnosticAnalyzer[] Analyzers => [new FluxAppAnalyzer(), new FluxCallOptionsAnalyzer()];

    /// <summary>No package to resolve: the references come from <see cref="TestReferences.All"/>.</summary>
    public static ReferenceAssemblies NoPackageReferences { get; } = new("net10.0");

    public static CSharpParseOptions ParseOptions => GeneratorHarness.ParseOptions;

    public static CSharpCompilationOptions Options(CSharpCompilationOptions options) =>
        options.WithNullableContextOptions(NullableContextOptions.Enable).WithAllowUnsafe(true);

    /// <summary>Both analyzers' diagnostics; <paramref name="crashes"/> collects every exception an analyzer threw.</summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, ConcurrentBag<Exception> crashes)
    {
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]),
            onAnalyzerException: (exception, _, _) => crashes.Add(exception),
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        return await compilation.WithAnalyzers([.. Analyzers], options).GetAnalyzerDiagnosticsAsync();
    }
}

/// <summary>Short forms for the common cases.</summary>
internal static class Verify
{
    /// <summary>Each source is one file; the markup in them is the complete expected set of diagnostics.</summary>
    public static Task Diagnostics(params string[] sources)
    {
        var test = new AnalyzerTest();
        for (int i = 0; i < sources.Length; i++) test.TestState.Sources.Add(($"/0/Test{i}.cs", sources[i]));
        return test.RunAsync();
    }

    /// <summary>One source and the exact diagnostics, messages included.</summary>
    public static Task Diagnostics(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Applies <typeparamref name="TCodeFix"/> to every marked diagnostic; the result must compile and match.</summary>
    public static Task Fix<TCodeFix>(string source, string fixedSource)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new FixTest<TCodeFix> { TestCode = source, FixedCode = fixedSource };
        return test.RunAsync();
    }

    /// <summary>Expects <typeparamref name="TCodeFix"/> to offer nothing for the marked diagnostics.</summary>
    public static Task NoFix<TCodeFix>(string source)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new FixTest<TCodeFix> { TestCode = source, FixedCode = source };
        return test.RunAsync();
    }

    /// <summary>A diagnostic with <paramref name="id"/> at markup location <paramref name="markupKey"/>.</summary>
    public static DiagnosticResult Diagnostic(string id) => new DiagnosticResult(FluxDiagnostics.All.Single(d => d.Id == id));
}
