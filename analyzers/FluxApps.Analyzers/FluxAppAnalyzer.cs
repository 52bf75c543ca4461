using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace FluxApps.Analyzers;

/// <summary>
/// Reports every rule a [FluxApp] method breaks (FLUX001–FLUX011, FLUX020–FLUX023) and a [FluxWorkerStartup] method (FLUX024). The rules
/// themselves are <see cref="FluxAppValidation.Validate"/>, the function the generator runs
/// before emitting anything, so a method is reported exactly when it gets no stub.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FluxAppAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = FluxDiagnostics.All;

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

            var startupAttribute = start.Compilation.GetTypeByMetadataName(FluxWorkerStartupValidation.AttributeMetadataName);

            start.RegisterSymbolAction(context =>
            {
                AnalyzeMethod(context, (IMethodSymbol)context.Symbol, appAttribute, cluster);
                AnalyzeStartup(context.ReportDiagnostic, (IMethodSymbol)context.Symbol, startupAttribute);
            }, SymbolKind.Method);
            start.RegisterSymbolAction(context => AnalyzeType(context, (INamedTypeSymbol)context.Symbol, appAttribute), SymbolKind.NamedType);
            // Local functions and lambdas are not member symbols: find them through operations.
            start.RegisterOperationAction(context =>
            {
                IMethodSymbol? function = context.Operation switch
                {
                    ILocalFunctionOperation local => local.Symbol,
                    IAnonymousFunctionOperation lambda => lambda.Symbol,
                    _ => null,
                };
                if (function is null) return;
                AnalyzeMethod(context.ReportDiagnostic, function, appAttribute, cluster, context.CancellationToken);
                AnalyzeStartup(context.ReportDiagnostic, function, startupAttribute);
            }, OperationKind.LocalFunction, OperationKind.AnonymousFunction);
        });
    }

    /// <summary>
    /// FLUX002 for a type that is not partial: the rules of the first app inside it, in source
    /// order, say what to report on the type's own declarations (once, however many apps it holds).
    /// </summary>
    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol type, INamedTypeSymbol appAttribute)
    {
        var declarations = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(context.CancellationToken))
            .OfType<TypeDeclarationSyntax>()
            .Where(d => !d.Modifiers.Any(SyntaxKind.PartialKeyword))
            .ToList();
        if (declarations.Count == 0) return;
        var app = FluxAppValidation.FirstAppInside(type, appAttribute);
        var attribute = app?.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, appAttribute));
        if (app is null || attribute is null) return;
        foreach (var problem in FluxAppValidation.Validate(app, attribute, cluster: null, context.CancellationToken).Problems)
        {
            if (problem.Descriptor != FluxDiagnostics.TypeNotPartial) continue;
            if (!declarations.Any(d => d.Identifier.GetLocation() == problem.Location)) continue; // an enclosing or nested type's own report
            context.ReportDiagnostic(problem.ToDiagnostic());
        }
    }

    /// <summary>The compilation's [assembly: FluxCluster(...)], which enables FLUX011; null when absent.</summary>
    internal static AttributeData? FindClusterAttribute(Compilation compilation)
    {
        var clusterAttribute = compilation.GetTypeByMetadataName(FluxAppValidation.ClusterAttributeMetadataName);
        if (clusterAttribute is null) return null;
        return compilation.Assembly.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, clusterAttribute));
    }

    /// <summary>FLUX024 for a [FluxWorkerStartup] method the generated registry cannot call once per worker.</summary>
    private static void AnalyzeStartup(Action<Diagnostic> report, IMethodSymbol method, INamedTypeSymbol? startupAttribute)
    {
        if (startupAttribute is null || method.PartialDefinitionPart is not null) return;
        if (!method.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, startupAttribute))) return;
        foreach (var problem in FluxWorkerStartupValidation.Validate(method)) report(problem.ToDiagnostic());
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, IMethodSymbol method, INamedTypeSymbol appAttribute, AttributeData? cluster) =>
        AnalyzeMethod(context.ReportDiagnostic, method, appAttribute, cluster, context.CancellationToken);

    private static void AnalyzeMethod(Action<Diagnostic> report, IMethodSymbol method, INamedTypeSymbol appAttribute, AttributeData? cluster, CancellationToken cancellationToken)
    {
        // A partial method is analyzed once, through its definition, which sees the attributes of both parts.
        if (method.PartialDefinitionPart is not null) return;
        AttributeData? attribute = method.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, appAttribute));
        if (attribute is null) return;
        foreach (var problem in FluxAppValidation.Validate(method, attribute, cluster, cancellationToken).Problems)
        {
            // FLUX002 sits on a type's name, outside the method: the type reports it (see AnalyzeType),
            // so that it is a local diagnostic the IDE shows, and fixes, with the type's document.
            if (problem.ReportedElsewhere || problem.Descriptor == FluxDiagnostics.TypeNotPartial) continue;
            report(problem.ToDiagnostic());
        }
    }
}
