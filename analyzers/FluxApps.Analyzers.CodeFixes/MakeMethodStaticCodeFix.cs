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

namespace FluxApps.Analyzers.CodeFixes
{
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

        // Each fix may edit callers in other documents; fixing one at a time keeps those edits exact.
        /// <inheritdoc />
        public override FixAllProvider? GetFixAllProvider() => null;

        /// <inheritdoc />
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null || model is null) return;
            foreach (var diagnostic in context.Diagnostics)
            {
                if (root.FindToken(diagnostic.Location.SourceSpan.Start).Parent is not MethodDeclarationSyntax declaration
                    || declaration.Identifier.Span != diagnostic.Location.SourceSpan)
                    continue;
                if (model.GetDeclaredSymbol(declaration, context.CancellationToken) is not IMethodSymbol method) continue;
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
}
