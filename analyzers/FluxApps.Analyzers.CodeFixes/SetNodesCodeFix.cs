using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Generators;
using FluxApps.Internal;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace FluxApps.Analyzers.CodeFixes;

/// <summary>
/// FLUX010: gives an exclusive request a node count, in [FluxApp(...)] or in a
/// <c>new FluxCallOptions { ... }</c>: <c>Nodes = 1</c>, or with [assembly: FluxCluster] the fewest
/// nodes the ranks fit on. An existing <c>Nodes = 0</c> is replaced rather than repeated.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SetNodesCodeFix)), Shared]
public sealed class SetNodesCodeFix : CodeFixProvider
{
    private const string EquivalenceKey = "FluxApps.SetNodes";
    private const string NodesProperty = "Nodes";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(FluxDiagnostics.ExclusiveWithoutNodes.Id);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            (SyntaxNode Root, int Nodes)? fix = node switch
            {
                AttributeArgumentSyntax { Parent: AttributeArgumentListSyntax { Parent: AttributeSyntax attribute } list } argument =>
                    FixAttribute(root, model, attribute, list, argument, context.CancellationToken),
                AssignmentExpressionSyntax { Parent: InitializerExpressionSyntax { Parent: BaseObjectCreationExpressionSyntax creation } initializer } assignment =>
                    FixInitializer(root, model, creation, initializer, assignment, context.CancellationToken),
                _ => null,
            };
            if (fix is not { } found) continue;
            string count = found.Nodes.ToString(CultureInfo.InvariantCulture);
            context.RegisterCodeFix(
                CodeAction.Create($"Set {NodesProperty} = {count}", _ => Task.FromResult(context.Document.WithSyntaxRoot(found.Root)), EquivalenceKey),
                diagnostic);
        }
    }

    /// <summary>[FluxApp(Exclusive = true)] → [FluxApp(Exclusive = true, Nodes = n)].</summary>
    private static (SyntaxNode, int)? FixAttribute(SyntaxNode root, SemanticModel model, AttributeSyntax attribute, AttributeArgumentListSyntax list,
        AttributeArgumentSyntax reported, CancellationToken cancellationToken)
    {
        if (model.GetSymbolInfo(attribute, cancellationToken).Symbol?.ContainingType is not { } attributeType
            || attributeType.ToDisplayString() != FluxAppValidation.AttributeMetadataName)
            return null;
        int Constant(string name, int fallback) =>
            list.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name) is { } argument
            && model.GetConstantValue(argument.Expression, cancellationToken) is { HasValue: true, Value: int value }
                ? value : fallback;
        int nodes = NodeCount(model.Compilation, Constant("Cpus", 1), Constant("Gpus", 0), Constant("MpiRanks", 1));

        var literal = Literal(nodes);
        var existing = list.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == NodesProperty);
        AttributeArgumentListSyntax newList = existing is not null
            ? list.ReplaceNode(existing.Expression, literal.WithTriviaFrom(existing.Expression))
            : list.WithArguments(InsertAfter(list.Arguments, list.Arguments.IndexOf(reported),
                SyntaxFactory.AttributeArgument(
                    SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(NodesProperty), SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
                    nameColon: null, literal)));
        return (root.ReplaceNode(list, newList), nodes);
    }

    /// <summary>new FluxCallOptions { Exclusive = true } → new FluxCallOptions { Exclusive = true, Nodes = n }.</summary>
    private static (SyntaxNode, int)? FixInitializer(SyntaxNode root, SemanticModel model, BaseObjectCreationExpressionSyntax creation,
        InitializerExpressionSyntax initializer, AssignmentExpressionSyntax reported, CancellationToken cancellationToken)
    {
        if (model.GetOperation(creation, cancellationToken) is not IObjectCreationOperation operation) return null;
        var appAttribute = model.Compilation.GetTypeByMetadataName(FluxAppValidation.AttributeMetadataName);
        var optionsType = model.Compilation.GetTypeByMetadataName(FluxCallOptionsAnalyzer.OptionsMetadataName);
        if (appAttribute is null || optionsType is null) return null;

        // Values the call asks for: the initializer's constants, then the called app's attribute.
        FluxCallOptionsAnalyzer.FindCalledApp(operation, optionsType, appAttribute, out var appData);
        var app = appData is null ? null : FluxAppResources.Read(appData);
        int Value(string name, int fallback) =>
            initializer.Expressions.OfType<AssignmentExpressionSyntax>().FirstOrDefault(a => Name(a) == name) is { } assignment
            && model.GetConstantValue(assignment.Right, cancellationToken) is { HasValue: true, Value: int value }
                ? value : fallback;
        int nodes = NodeCount(model.Compilation, Value("Cpus", app?.Cpus ?? 1), Value("Gpus", app?.Gpus ?? 0), Value("MpiRanks", app?.MpiRanks ?? 1));

        var literal = Literal(nodes);
        var existing = initializer.Expressions.OfType<AssignmentExpressionSyntax>().FirstOrDefault(a => Name(a) == NodesProperty);
        InitializerExpressionSyntax newInitializer = existing is not null
            ? initializer.ReplaceNode(existing.Right, literal.WithTriviaFrom(existing.Right))
            : initializer.WithExpressions(InsertAfter(initializer.Expressions, initializer.Expressions.IndexOf(reported),
                (ExpressionSyntax)SyntaxFactory.AssignmentExpression(SyntaxKind.SimpleAssignmentExpression,
                    SyntaxFactory.IdentifierName(NodesProperty),
                    SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space),
                    literal)));
        return (root.ReplaceNode(initializer, newInitializer), nodes);
    }

    private static string? Name(AssignmentExpressionSyntax assignment) => (assignment.Left as IdentifierNameSyntax)?.Identifier.ValueText;

    private static LiteralExpressionSyntax Literal(int value) =>
        SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value));

    /// <summary>1, or with [assembly: FluxCluster] the fewest nodes on which the ranks fit.</summary>
    private static int NodeCount(Compilation compilation, int cpus, int gpus, int ranks)
    {
        var cluster = FluxAppAnalyzer.FindClusterAttribute(compilation);
        if (cluster is null) return 1;
        FluxAppValidation.ReadCluster(cluster, out int clusterNodes, out int coresPerNode, out int gpusPerNode);
        return FluxAppRules.SmallestFittingNodeCount(cpus, gpus, ranks, clusterNodes, coresPerNode, gpusPerNode);
    }

    /// <summary>
    /// Inserts <paramref name="added"/> after element <paramref name="index"/>, laid out like its
    /// neighbours: on the same line after ", " or on a line of its own with the same indentation.
    /// </summary>
    internal static SeparatedSyntaxList<T> InsertAfter<T>(SeparatedSyntaxList<T> list, int index, T added)
        where T : SyntaxNode
    {
        T element = list[index];
        bool onItsOwnLine = element.GetFirstToken().GetPreviousToken().TrailingTrivia.Any(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        var nodesAndSeparators = new List<SyntaxNodeOrToken>();
        for (int i = 0; i < list.Count; i++)
        {
            bool hasSeparator = i < list.SeparatorCount;
            if (i != index)
            {
                nodesAndSeparators.Add(list[i]);
                if (hasSeparator) nodesAndSeparators.Add(list.GetSeparator(i));
                continue;
            }
            if (hasSeparator)
            {
                // "a, b" → "a, added, b": the new element copies the separator's trailing layout.
                var separator = list.GetSeparator(i);
                nodesAndSeparators.Add(element);
                nodesAndSeparators.Add(separator);
                nodesAndSeparators.Add(onItsOwnLine ? added.WithLeadingTrivia(element.GetLeadingTrivia()) : added);
                nodesAndSeparators.Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(separator.TrailingTrivia));
            }
            else
            {
                // Last element: what followed it (a line break before "}", or nothing before ")")
                // now follows the new one; on separate lines, the comma ends the element's line.
                var trailing = element.GetTrailingTrivia();
                var lineBreak = element.GetFirstToken().GetPreviousToken().TrailingTrivia.LastOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
                var afterComma = !onItsOwnLine ? SyntaxFactory.TriviaList(SyntaxFactory.Space)
                    : trailing.Any(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) ? trailing
                    : SyntaxFactory.TriviaList(lineBreak);
                nodesAndSeparators.Add(element.WithoutTrailingTrivia());
                nodesAndSeparators.Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(afterComma));
                nodesAndSeparators.Add((onItsOwnLine ? added.WithLeadingTrivia(element.GetLeadingTrivia()) : added).WithTrailingTrivia(trailing));
            }
        }
        return SyntaxFactory.SeparatedList<T>(nodesAndSeparators);
    }
}
