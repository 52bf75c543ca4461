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
using Microsoft.CodeAnalysis.FindSymbols;
using Microsoft.CodeAnalysis.Operations;

namespace FluxApps.Analyzers.CodeFixes;

/// <summary>
/// FLUX001: makes the app method static. Offered only when that keeps the code compiling and
/// meaning the same: the body uses no instance state (<c>this</c>, <c>base</c>, instance fields,
/// properties, methods or events), the method is not part of an inheritance or interface contract,
/// and no caller reaches it through an instance other than <c>this</c> (such calls become plain calls).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakeMethodStaticCodeFix)), Shared]
public sealed class MakeMethodStaticCodeFix : CodeFixProvider
{
    private const string EquivalenceKey = "FluxApps.MakeMethodStatic";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(FluxDiagnostics.MethodNotStatic.Id);

    /// <summary>
    /// Fix All plans every reported method against the same solution and applies the union of the
    /// edits in one pass: one fix may touch several documents (partial parts, <c>this.M</c> callers in
    /// other parts of the type), and several fixes may edit the same caller, so the edits are merged as
    /// syntax rather than as separate text changes.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => MakeMethodsStaticFixAll.Instance;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (ReportedMethod(root, model, diagnostic, context.CancellationToken) is not { } method) continue;
            var plan = await PlanAsync(context.Document.Project.Solution, method, context.CancellationToken).ConfigureAwait(false);
            if (plan is null) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Make '{method.Name}' static", ct => ApplyAsync(context.Document.Project.Solution, plan, ct), EquivalenceKey),
                diagnostic);
        }
    }

    /// <summary>The edits: the method's declarations, and the <c>this.M</c> references that become <c>M</c>.</summary>
    private sealed class Plan
    {
        public List<(DocumentId Document, MethodDeclarationSyntax Declaration)> Declarations { get; } = new();
        public List<(DocumentId Document, MemberAccessExpressionSyntax Access)> ThisAccesses { get; } = new();

        /// <summary>Adds <paramref name="other"/>'s edits that this plan does not already hold.</summary>
        public void Merge(Plan other)
        {
            foreach (var declaration in other.Declarations)
                if (!Declarations.Any(d => d.Declaration == declaration.Declaration)) Declarations.Add(declaration);
            foreach (var access in other.ThisAccesses)
                if (!ThisAccesses.Any(a => a.Access == access.Access)) ThisAccesses.Add(access);
        }
    }

    /// <summary>The method a FLUX001 diagnostic reports, when the diagnostic sits on its name.</summary>
    private static IMethodSymbol? ReportedMethod(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        if (root.FindToken(diagnostic.Location.SourceSpan.Start).Parent is not MethodDeclarationSyntax declaration
            || declaration.Identifier.Span != diagnostic.Location.SourceSpan)
            return null;
        return model.GetDeclaredSymbol(declaration, cancellationToken);
    }

    /// <summary>Fix All in a document, project or solution: one plan for every fixable reported method.</summary>
    private sealed class MakeMethodsStaticFixAll : FixAllProvider
    {
        public static readonly MakeMethodsStaticFixAll Instance = new();

        public override async Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
        {
            var documents = fixAllContext.Scope switch
            {
                FixAllScope.Document when fixAllContext.Document is not null => new[] { fixAllContext.Document },
                FixAllScope.Project => fixAllContext.Project.Documents.ToArray(),
                FixAllScope.Solution => fixAllContext.Solution.Projects.SelectMany(p => p.Documents).ToArray(),
                _ => System.Array.Empty<Document>(),
            };
            var reported = new List<(Document Document, ImmutableArray<Diagnostic> Diagnostics)>();
            foreach (var document in documents)
            {
                var diagnostics = await fixAllContext.GetDocumentDiagnosticsAsync(document).ConfigureAwait(false);
                if (!diagnostics.IsEmpty) reported.Add((document, diagnostics));
            }
            if (reported.Count == 0) return null;
            var solution = fixAllContext.Solution;
            return CodeAction.Create("Make the [FluxApp] methods static",
                ct => FixAllAsync(solution, reported, ct), fixAllContext.CodeActionEquivalenceKey);
        }

        private static async Task<Solution> FixAllAsync(Solution solution, List<(Document Document, ImmutableArray<Diagnostic> Diagnostics)> reported,
            CancellationToken cancellationToken)
        {
            var merged = new Plan();
            foreach (var (document, diagnostics) in reported)
            {
                var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
                var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
                if (root is null || model is null) continue;
                foreach (var diagnostic in diagnostics)
                {
                    if (ReportedMethod(root, model, diagnostic, cancellationToken) is not { } method) continue;
                    // A method that cannot be made static alone is left as it is, as the single fix would.
                    if (await PlanAsync(solution, method, cancellationToken).ConfigureAwait(false) is { } plan) merged.Merge(plan);
                }
            }
            return await ApplyAsync(solution, merged, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The edits that make <paramref name="method"/> static, or null when doing so would change or break code.</summary>
    private static async Task<Plan?> PlanAsync(Solution solution, IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (method.IsStatic || method.IsAbstract || method.IsVirtual || method.IsOverride || method.MethodKind != MethodKind.Ordinary)
            return null;
        if (ImplementsInterfaceMember(method)) return null;

        var plan = new Plan();
        foreach (var part in new[] { method, method.PartialDefinitionPart, method.PartialImplementationPart })
        {
            if (part is null) continue;
            foreach (var reference in part.DeclaringSyntaxReferences)
            {
                if (await reference.GetSyntaxAsync(cancellationToken).ConfigureAwait(false) is not MethodDeclarationSyntax declaration) return null;
                var document = solution.GetDocument(declaration.SyntaxTree);
                if (document is null) return null;
                var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
                if (model is null || UsesInstanceState(model, declaration, cancellationToken)) return null;
                if (!plan.Declarations.Any(d => d.Declaration == declaration)) plan.Declarations.Add((document.Id, declaration));
            }
        }

        foreach (var referenced in await SymbolFinder.FindReferencesAsync(method, solution, cancellationToken).ConfigureAwait(false))
        {
            foreach (var location in referenced.Locations)
            {
                var root = await location.Document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
                var model = await location.Document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
                if (root is null || model is null) return null;
                var name = root.FindNode(location.Location.SourceSpan, getInnermostNodeForTie: true);
                switch (name.Parent)
                {
                    case MemberAccessExpressionSyntax access when access.Name == name:
                        if (access.Expression is ThisExpressionSyntax)
                            plan.ThisAccesses.Add((location.Document.Id, access));
                        else if (model.GetSymbolInfo(access.Expression, cancellationToken).Symbol is not ITypeSymbol)
                            return null; // obj.M(): the receiver would be dropped, and with it its meaning
                        break;
                    case MemberBindingExpressionSyntax:
                        return null; // obj?.M()
                }
            }
        }
        return plan;
    }

    private static bool ImplementsInterfaceMember(IMethodSymbol method)
    {
        foreach (var @interface in method.ContainingType.AllInterfaces)
        {
            foreach (var member in @interface.GetMembers().OfType<IMethodSymbol>())
            {
                if (SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(member), method)) return true;
            }
        }
        return false;
    }

    /// <summary>True when the method body reads <c>this</c> in any form, explicitly or implicitly; or when it cannot be told.</summary>
    internal static bool UsesInstanceState(SemanticModel model, MethodDeclarationSyntax declaration, CancellationToken cancellationToken)
    {
        if (declaration.Body is null && declaration.ExpressionBody is null) return false; // partial definition or extern
        var operation = model.GetOperation(declaration, cancellationToken);
        if (operation is null) return true;
        foreach (var descendant in operation.DescendantsAndSelf())
        {
            if (descendant is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }) return true;
            if (descendant is IInvalidOperation) return true; // broken code: cannot be sure what it refers to
        }
        return false;
    }

    private static async Task<Solution> ApplyAsync(Solution solution, Plan plan, CancellationToken cancellationToken)
    {
        var documents = plan.Declarations.Select(d => d.Document).Concat(plan.ThisAccesses.Select(a => a.Document)).Distinct();
        foreach (var documentId in documents)
        {
            var document = solution.GetDocument(documentId);
            var root = document is null ? null : await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (document is null || root is null) continue;
            var declarations = plan.Declarations.Where(d => d.Document == documentId).Select(d => (SyntaxNode)d.Declaration);
            var accesses = plan.ThisAccesses.Where(a => a.Document == documentId).Select(a => (SyntaxNode)a.Access);
            var newRoot = root.ReplaceNodes(declarations.Concat(accesses), (original, rewritten) => rewritten switch
            {
                MethodDeclarationSyntax method => AddStatic(method),
                // this.M(...) -> M(...): keep the trivia that surrounded the access.
                MemberAccessExpressionSyntax access => access.Name.WithTriviaFrom(access),
                _ => rewritten,
            });
            solution = solution.WithDocumentSyntaxRoot(documentId, newRoot);
        }
        return solution;
    }

    /// <summary>
    /// Adds <c>static</c> after the accessibility and <c>new</c> modifiers (the order .NET style
    /// uses) and drops <c>readonly</c>, which a static member cannot have.
    /// </summary>
    internal static MethodDeclarationSyntax AddStatic(MethodDeclarationSyntax method)
    {
        var modifiers = method.Modifiers;
        int readonlyIndex = modifiers.IndexOf(SyntaxKind.ReadOnlyKeyword);
        if (readonlyIndex >= 0)
        {
            var removed = modifiers[readonlyIndex];
            modifiers = modifiers.RemoveAt(readonlyIndex);
            if (readonlyIndex == 0 && modifiers.Count > 0)
                modifiers = modifiers.Replace(modifiers[0], modifiers[0].WithLeadingTrivia(removed.LeadingTrivia));
            else if (readonlyIndex == 0)
                method = method.WithReturnType(method.ReturnType.WithLeadingTrivia(removed.LeadingTrivia));
        }

        int insertAt = 0;
        for (int i = 0; i < modifiers.Count; i++)
        {
            if (modifiers[i].Kind() is SyntaxKind.PublicKeyword or SyntaxKind.PrivateKeyword or SyntaxKind.ProtectedKeyword
                or SyntaxKind.InternalKeyword or SyntaxKind.NewKeyword)
                insertAt = i + 1;
        }
        var @static = SyntaxFactory.Token(SyntaxKind.StaticKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (insertAt == 0)
        {
            // 'static' comes first: it takes over the leading trivia (indentation) of what was first.
            if (modifiers.Count > 0)
            {
                @static = @static.WithLeadingTrivia(modifiers[0].LeadingTrivia);
                modifiers = modifiers.Replace(modifiers[0], modifiers[0].WithLeadingTrivia());
            }
            else
            {
                var first = method.ReturnType.GetFirstToken();
                @static = @static.WithLeadingTrivia(first.LeadingTrivia);
                method = method.ReplaceToken(first, first.WithLeadingTrivia());
            }
        }
        return method.WithModifiers(modifiers.Insert(insertAt, @static));
    }
}
