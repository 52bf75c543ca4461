using System.Collections.Immutable;
using System.Linq;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace FluxApps.Analyzers
{
    /// <summary>
    /// Reports every rule a [FluxApp] method breaks (FLUX001–FLUX011, FLUX020–FLUX022). The rules
    /// themselves are <see cref="FluxAppValidation.Validate"/>, the function the generator runs
    /// before emitting anything, so a method is reported exactly when it gets no stub.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class FluxAppAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = FluxDiagnostics.ById.Values.ToImmutableArray();

        /// <inheritdoc />
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(static start =>
            {
                var appAttribute = start.Compilation.GetTypeByMetadataName(FluxAppValidation.AttributeMetadataName);
                if (appAttribute is null) return; // FluxApps is not referenced: nothing to check
                AttributeData? cluster = FindClusterAttribute(start.Compilation);

                start.RegisterSymbolAction(context => AnalyzeMethod(context, (IMethodSymbol)context.Symbol, appAttribute, cluster), SymbolKind.Method);
                // Local functions and lambdas are not member symbols: find them through operations.
                start.RegisterOperationAction(context =>
                {
                    IMethodSymbol function = context.Operation switch
                    {
                        ILocalFunctionOperation local => local.Symbol,
                        IAnonymousFunctionOperation lambda => lambda.Symbol,
                        _ => null!,
                    };
                    if (function is not null) AnalyzeMethod(context.ReportDiagnostic, function, appAttribute, cluster, context.CancellationToken);
                }, OperationKind.LocalFunction, OperationKind.AnonymousFunction);
            });
        }

        /// <summary>The compilation's [assembly: FluxCluster(...)], which enables FLUX011; null when absent.</summary>
        internal static AttributeData? FindClusterAttribute(Compilation compilation)
        {
            var clusterAttribute = compilation.GetTypeByMetadataName(FluxAppValidation.ClusterAttributeMetadataName);
            if (clusterAttribute is null) return null;
            return compilation.Assembly.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, clusterAttribute));
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context, IMethodSymbol method, INamedTypeSymbol appAttribute, AttributeData? cluster) =>
            AnalyzeMethod(context.ReportDiagnostic, method, appAttribute, cluster, context.CancellationToken);

        private static void AnalyzeMethod(System.Action<Diagnostic> report, IMethodSymbol method, INamedTypeSymbol appAttribute, AttributeData? cluster, System.Threading.CancellationToken cancellationToken)
        {
            AttributeData? attribute = method.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, appAttribute));
            if (attribute is null) return;
            foreach (var problem in FluxAppValidation.Validate(method, attribute, cluster, cancellationToken))
            {
                if (problem.ReportedElsewhere) continue;
                report(Diagnostic.Create(FluxDiagnostics.For(problem.Id), problem.Location, problem.Message));
            }
        }
    }
}
