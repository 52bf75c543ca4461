using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Analyzers.CodeFixes;

/// <summary>
/// FLUX002: adds <c>partial</c> to the reported type and to every other type of the chain the
/// generated stubs need: the types around it, and the types inside it that lead to an app.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakeTypesPartialCodeFix)), Shared]
public sealed class MakeTypesPartialCodeFix : CodeFixProvider
{
    private const string EquivalenceKey = "FluxApps.MakeTypesPartial";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(FluxDiagnostics.TypeNotPartial.Id);

    /// <summary>
    /// Fix All takes the union of the chains of every reported type in a document and marks each type
    /// once: chains share their outer types, so separate fixes would each edit the same declarations.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(MakeAllPartialAsync);

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var declaration = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent as TypeDeclarationSyntax;
            if (declaration is null || declaration.Identifier.Span != diagnostic.Location.SourceSpan) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Make '{declaration.Identifier.ValueText}' partial, with the types around the app",
                    ct => MakePartialAsync(context.Document, declaration, ct), EquivalenceKey),
                diagnostic);
        }
    }

    private static Task<Document> MakePartialAsync(Document document, TypeDeclarationSyntax reported, CancellationToken cancellationToken) =>
        MakeChainsPartialAsync(document, new[] { reported }, cancellationToken);

    private static async Task<Document?> MakeAllPartialAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return null;
        var reported = diagnostics
            .Select(d => root.FindToken(d.Location.SourceSpan.Start).Parent as TypeDeclarationSyntax)
            .Where((declaration, i) => declaration is not null && declaration.Identifier.Span == diagnostics[i].Location.SourceSpan)
            .Select(declaration => declaration!)
            .ToList();
        return reported.Count == 0 ? null : await MakeChainsPartialAsync(document, reported, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds <c>partial</c> to every type of the chains of <paramref name="reportedTypes"/>, each type once.</summary>
    private static async Task<Document> MakeChainsPartialAsync(Document document, IReadOnlyList<TypeDeclarationSyntax> reportedTypes, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return document;

        var chain = new HashSet<TypeDeclarationSyntax>();
        foreach (var reported in reportedTypes)
        {
            chain.UnionWith(reported.AncestorsAndSelf().OfType<TypeDeclarationSyntax>());
            foreach (var method in reported.DescendantNodes().OfType<MethodDeclarationSyntax>())
            {
                if (!IsApp(model.GetDeclaredSymbol(method, cancellationToken))) continue;
                foreach (var type in method.Ancestors().OfType<TypeDeclarationSyntax>())
                {
                    if (type == reported) break;
                    chain.Add(type);
                }
            }
        }
        var notPartial = chain.Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)).ToList();
        var newRoot = root.ReplaceNodes(notPartial, (_, rewritten) => AddPartial(rewritten));
        return document.WithSyntaxRoot(newRoot);
    }

    private static bool IsApp(IMethodSymbol? method) =>
        method is not null && method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == FluxAppValidation.AttributeMetadataName);

    /// <summary>Appends <c>partial</c> to the modifiers, right before the type keyword, where C# requires it.</summary>
    internal static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax declaration)
    {
        if (declaration.Modifiers.Any(SyntaxKind.PartialKeyword)) return declaration;
        var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (declaration.Modifiers.Count > 0) return declaration.WithModifiers(declaration.Modifiers.Add(partial));
        // No modifiers: 'partial' takes over the keyword's leading trivia (indentation, comments).
        var keyword = declaration.Keyword;
        return declaration
            .WithKeyword(keyword.WithLeadingTrivia())
            .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(keyword.LeadingTrivia)));
    }
}
