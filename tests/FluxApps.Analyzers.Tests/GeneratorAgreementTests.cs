using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>
/// The analyzers and the real generator agree: a [FluxApp] method gets a stub exactly when no
/// FluxApps diagnostic is reported on it (FLUX011 aside: a request too big for the declared machine
/// still compiles), the generated code compiles, and neither crashes on code being typed.
/// </summary>
public class GeneratorAgreementTests
{
    public static TheoryData<int> MixedPrograms() => new(Enumerable.Range(0, Corpus.Mixed.Length));

    [Theory]
    [MemberData(nameof(MixedPrograms))]
    public async Task StubsAreGenerated_ExactlyForTheMethodsWithoutDiagnostics(int index)
    {
        var compilation = GeneratorHarness.Compile(Corpus.Mixed[index]);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var crashes = new ConcurrentBag<Exception>();
        var diagnostics = await TestCompilation.AnalyzeAsync(compilation, crashes);
        var output = GeneratorHarness.Generate(compilation, out _, out var crash);
        Assert.Null(crash);
        Assert.Empty(crashes);
        // What the generator adds compiles: no new errors, no warnings either.
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && !compilation.GetDiagnostics().Contains(d)).Select(d => d.ToString()));

        var apps = AppsIn(compilation).ToList();
        Assert.NotEmpty(apps);
        foreach (var (declaration, method) in apps)
        {
            bool reported = diagnostics.Any(d => d.Id != "FLUX011" && IsAbout(d, declaration));
            bool stubbed = HasGeneratedStub(output, method);
            Assert.True(reported != stubbed,
                $"{method.ToDisplayString()}: {(reported ? "reported" : "not reported")} and {(stubbed ? "stubbed" : "not stubbed")}; diagnostics: "
                + string.Join("; ", diagnostics.Where(d => IsAbout(d, declaration)).Select(d => d.ToString())));
        }
    }

    [Fact]
    public async Task ValidProgram_IsSilent_AndCompilesWithItsStubs()
    {
        var compilation = GeneratorHarness.Compile(Corpus.ValidProgram);
        var crashes = new ConcurrentBag<Exception>();
        var diagnostics = await TestCompilation.AnalyzeAsync(compilation, crashes);
        Assert.Empty(crashes);
        Assert.Empty(diagnostics.Select(d => d.ToString()));

        var output = GeneratorHarness.Generate(compilation, out var result, out var crash);
        Assert.Null(crash);
        Assert.NotEmpty(result.GeneratedSources);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()));
    }

    /// <summary>Every prefix of the program, cut at each token, as the user types it; and the program with each token deleted.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task HalfTypedCode_CrashesNeitherTheGeneratorNorTheAnalyzers(int which)
    {
        string program = which == 0 ? Corpus.ValidProgram : Corpus.Mixed[1];
        var tokens = CSharpSyntaxTree.ParseText(program).GetRoot().DescendantTokens().ToList();
        var variants = new List<string>();
        foreach (var token in tokens)
        {
            variants.Add(program.Substring(0, token.Span.End));
            variants.Add(program.Remove(token.Span.Start, token.Span.Length));
        }

        var crashes = new ConcurrentBag<Exception>();
        foreach (var variant in variants)
        {
            var compilation = GeneratorHarness.Compile(variant);
            GeneratorHarness.Generate(compilation, out _, out var crash);
            Assert.True(crash is null, $"Generator crashed on:\n{variant}\n{crash}");
            await TestCompilation.AnalyzeAsync(compilation, crashes);
            Assert.True(crashes.IsEmpty, $"Analyzer crashed on:\n{variant}\n{crashes.FirstOrDefault()}");
        }
    }

    private static IEnumerable<(SyntaxNode Declaration, IMethodSymbol Method)> AppsIn(Compilation compilation)
    {
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (node is not (MethodDeclarationSyntax or LocalFunctionStatementSyntax or OperatorDeclarationSyntax)) continue;
                if (model.GetDeclaredSymbol(node) is IMethodSymbol method
                    && method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "FluxApps.FluxAppAttribute"))
                    yield return (node, method);
            }
        }
    }

    /// <summary>Reported on the method's declaration, or (FLUX002) on a type around it.</summary>
    private static bool IsAbout(Diagnostic diagnostic, SyntaxNode declaration)
    {
        if (diagnostic.Location.SourceTree == declaration.SyntaxTree && declaration.Span.Contains(diagnostic.Location.SourceSpan)) return true;
        return diagnostic.Id == "FLUX002" && declaration.Ancestors().OfType<TypeDeclarationSyntax>()
            .Any(t => t.SyntaxTree == diagnostic.Location.SourceTree && t.Identifier.Span == diagnostic.Location.SourceSpan);
    }

    private static bool HasGeneratedStub(Compilation output, IMethodSymbol app)
    {
        if (app.ContainingType is null) return false;
        var type = FindType(output, app.ContainingType);
        return type is not null && type.GetMembers(app.Name + "Async").OfType<IMethodSymbol>().Any(stub =>
            stub.GetAttributes().Any(a => a.AttributeClass?.Name == "GeneratedCodeAttribute" && (string?)a.ConstructorArguments[0].Value == "FluxApps.Generators")
            && stub.Parameters.Length == app.Parameters.Length + 2);
    }

    private static INamedTypeSymbol? FindType(Compilation output, INamedTypeSymbol original)
    {
        var path = new Stack<INamedTypeSymbol>();
        for (var t = original; t is not null; t = t.ContainingType) path.Push(t);
        INamespaceOrTypeSymbol current = output.GlobalNamespace;
        foreach (var ns in original.ContainingNamespace.ToDisplayString().Split('.').Where(_ => !original.ContainingNamespace.IsGlobalNamespace))
            current = current.GetMembers(ns).OfType<INamespaceSymbol>().Single();
        foreach (var t in path)
            current = current.GetMembers(t.Name).OfType<INamedTypeSymbol>().FirstOrDefault(m => m.Arity == t.Arity)!;
        return current as INamedTypeSymbol;
    }
}
