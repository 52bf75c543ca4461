using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using FluxApps.Generators;
using FluxApps.Internal;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace FluxApps.Analyzers;

/// <summary>
/// Applies the [FluxApp] resource rules to per-call overrides written as constants,
/// <c>new FluxCallOptions { Cpus = 0 }</c>, with the same ids as on the attribute: the runtime
/// would throw ArgumentException at that call. When the options are passed straight to a
/// generated stub, the app's attribute supplies the values the initializer leaves out, so
/// rules between two values (Nodes against MpiRanks, Exclusive against Nodes, the cluster fit)
/// are checked on what the job would really ask for.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FluxCallOptionsAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The runtime type whose object initializers are checked.</summary>
    public const string OptionsMetadataName = "FluxApps.FluxCallOptions";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        FluxDiagnostics.ResourceOutOfRange, FluxDiagnostics.NodesExceedRanks, FluxDiagnostics.InvalidTimeLimit,
        FluxDiagnostics.ExclusiveWithoutNodes, FluxDiagnostics.DoesNotFitCluster, FluxDiagnostics.EmptyText);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var optionsType = start.Compilation.GetTypeByMetadataName(OptionsMetadataName);
            var appAttribute = start.Compilation.GetTypeByMetadataName(FluxAppValidation.AttributeMetadataName);
            if (optionsType is null || appAttribute is null) return;
            AttributeData? cluster = FluxAppAnalyzer.FindClusterAttribute(start.Compilation);
            start.RegisterOperationAction(
                context => Analyze(context, (IObjectCreationOperation)context.Operation, optionsType, appAttribute, cluster),
                OperationKind.ObjectCreation);
        });
    }

    /// <summary>One property set in the initializer: its constant value (null when not constant) and where.</summary>
    private sealed class Override
    {
        public Override(bool isConstant, object? value, Location location)
        {
            IsConstant = isConstant;
            Value = value;
            Location = location;
        }

        public bool IsConstant { get; }
        public object? Value { get; }
        public Location Location { get; }
    }

    private static void Analyze(OperationAnalysisContext context, IObjectCreationOperation creation, INamedTypeSymbol optionsType,
        INamedTypeSymbol appAttribute, AttributeData? cluster)
    {
        if (!SymbolEqualityComparer.Default.Equals(creation.Type, optionsType) || creation.Initializer is null) return;

        var overrides = new Dictionary<string, Override>(StringComparer.Ordinal);
        foreach (var initializer in creation.Initializer.Initializers)
        {
            if (initializer is ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Property: var property } } assignment
                && SymbolEqualityComparer.Default.Equals(property.ContainingType, optionsType))
            {
                bool isConstant = TryGetConstant(assignment.Value, out object? value);
                overrides[property.Name] = new Override(isConstant, value, assignment.Syntax.GetLocation());
            }
        }
        if (overrides.Count == 0) return;

        IMethodSymbol? app = FindCalledApp(creation, optionsType, appAttribute, out AttributeData? appData);
        var request = new Request(overrides, appData is null ? null : FluxAppResources.Read(appData));
        string prefix = app is null
            ? "FluxCallOptions: "
            : $"FluxCallOptions for [FluxApp] method '{app.Name}' (on top of its attribute): ";

        void Report(DiagnosticDescriptor descriptor, Location location, string? message)
        {
            if (message is not null) context.ReportDiagnostic(Diagnostic.Create(descriptor, location, prefix + message));
        }

        // Rules on one value: only what the initializer itself sets.
        if (request.Override("Cpus") is { } cpus) Report(FluxDiagnostics.ResourceOutOfRange, cpus.Location, FluxAppRules.CheckCpus(cpus.Int));
        if (request.Override("Gpus") is { } gpus) Report(FluxDiagnostics.ResourceOutOfRange, gpus.Location, FluxAppRules.CheckGpus(gpus.Int));
        if (request.Override("MpiRanks") is { } ranks) Report(FluxDiagnostics.ResourceOutOfRange, ranks.Location, FluxAppRules.CheckMpiRanks(ranks.Int));
        if (request.Override("Nodes") is { } nodes) Report(FluxDiagnostics.ResourceOutOfRange, nodes.Location, FluxAppRules.CheckNodes(nodes.Int));
        if (request.Override("Urgency") is { } urgency) Report(FluxDiagnostics.ResourceOutOfRange, urgency.Location, FluxAppRules.CheckUrgency(urgency.Int));
        if (request.Override("Retries") is { } retries) Report(FluxDiagnostics.ResourceOutOfRange, retries.Location, FluxAppRules.CheckRetries(retries.Int));
        if (request.Override("TimeLimit") is { } timeLimit) Report(FluxDiagnostics.InvalidTimeLimit, timeLimit.Location, FluxAppRules.CheckTimeLimit(timeLimit.Value as string));
        if (request.Override("Name") is { } name) Report(FluxDiagnostics.EmptyText, name.Location, FluxAppRules.CheckName(name.Value as string));
        if (request.Override("Queue") is { } queue) Report(FluxDiagnostics.EmptyText, queue.Location, FluxAppRules.CheckQueue(queue.Value as string));

        // Rules between values: when both are known and the initializer sets at least one of them.
        // Values already out of range are FLUX003's alone.
        if (request.TryGet("Nodes", out int nodeCount, out bool nodesOverridden) && request.TryGet("MpiRanks", out int rankCount, out bool ranksOverridden)
            && (nodesOverridden || ranksOverridden) && nodeCount >= 0 && rankCount >= 1)
        {
            Report(FluxDiagnostics.NodesExceedRanks, request.LocationOf("Nodes", "MpiRanks", creation),
                FluxAppRules.CheckNodesVersusRanks(nodeCount, rankCount));
        }
        if (request.TryGetBool("Exclusive", out bool exclusive, out bool exclusiveOverridden) && request.TryGet("Nodes", out nodeCount, out nodesOverridden)
            && (exclusiveOverridden || nodesOverridden) && nodeCount >= 0)
        {
            Report(FluxDiagnostics.ExclusiveWithoutNodes, request.LocationOf("Exclusive", "Nodes", creation),
                FluxAppRules.CheckExclusive(exclusive, nodeCount));
        }
        if (cluster is not null) CheckClusterFit(request, cluster, creation, Report);
    }

    /// <summary>
    /// FLUX011 for the request. A value that is not known (not a constant, or no app in sight)
    /// takes the smallest valid value (1 core, 0 GPUs, 1 rank, any nodes), with which a request
    /// fits whenever it fits at all: so a report is certain, never a guess.
    /// </summary>
    private static void CheckClusterFit(Request request, AttributeData cluster, IObjectCreationOperation creation, Action<DiagnosticDescriptor, Location, string?> report)
    {
        FluxAppValidation.ReadCluster(cluster, out int clusterNodes, out int coresPerNode, out int gpusPerNode);
        int Value(string property, int smallest, bool withOverrides) =>
            (withOverrides ? request.TryGet(property, out int v, out _) : request.TryGetFromApp(property, out v)) ? v : smallest;

        string? withOverrides = FluxAppRules.CheckClusterFit(Value("Cpus", 1, true), Value("Gpus", 0, true), Value("MpiRanks", 1, true),
            Value("Nodes", 0, true), clusterNodes, coresPerNode, gpusPerNode, out string[] blamed);
        if (withOverrides is null) return;
        // When the attribute alone does not fit, FLUX011 is already reported on it.
        string? appAlone = FluxAppRules.CheckClusterFit(Value("Cpus", 1, false), Value("Gpus", 0, false), Value("MpiRanks", 1, false),
            Value("Nodes", 0, false), clusterNodes, coresPerNode, gpusPerNode);
        if (appAlone is not null) return;
        Location location = blamed.Select(p => request.Override(p)?.Location).FirstOrDefault(l => l is not null) ?? creation.Syntax.GetLocation();
        report(FluxDiagnostics.DoesNotFitCluster, location, "cannot fit the declared cluster: " + withOverrides);
    }

    /// <summary>The values of one call: the initializer's constants, then the app's attribute when known.</summary>
    private sealed class Request
    {
        private readonly Dictionary<string, Override> _overrides;
        private readonly FluxAppResources? _app;

        public Request(Dictionary<string, Override> overrides, FluxAppResources? app)
        {
            _overrides = overrides;
            _app = app;
        }

        /// <summary>The property's constant, non-null override, or null.</summary>
        public ConstantOverride? Override(string property) =>
            _overrides.TryGetValue(property, out var o) && o.IsConstant && o.Value is not null ? new ConstantOverride(o.Value, o.Location) : null;

        public bool TryGet(string property, out int value, out bool overridden)
        {
            overridden = false;
            if (_overrides.TryGetValue(property, out var o))
            {
                value = 0;
                if (!o.IsConstant) return false; // decided at run time
                if (o.Value is not null)
                {
                    overridden = true;
                    return TryGetInt(o.Value, out value);
                }
            }
            return TryGetFromApp(property, out value); // null keeps the attribute's value
        }

        public bool TryGetFromApp(string property, out int value)
        {
            value = 0;
            if (_app is null) return false;
            value = property switch
            {
                "Cpus" => _app.Cpus,
                "Gpus" => _app.Gpus,
                "MpiRanks" => _app.MpiRanks,
                "Nodes" => _app.Nodes,
                _ => throw new ArgumentOutOfRangeException(nameof(property), property, "not an integer resource"),
            };
            return true;
        }

        public bool TryGetBool(string property, out bool value, out bool overridden)
        {
            value = false;
            overridden = false;
            if (_overrides.TryGetValue(property, out var o))
            {
                if (!o.IsConstant) return false;
                if (o.Value is bool b)
                {
                    value = b;
                    overridden = true;
                    return true;
                }
            }
            if (_app is null) return false;
            value = _app.Exclusive;
            return true;
        }

        /// <summary>Where a rule between two properties is reported: the first one the initializer sets.</summary>
        public Location LocationOf(string first, string second, IOperation creation) =>
            Override(first)?.Location ?? Override(second)?.Location ?? creation.Syntax.GetLocation();
    }

    private sealed class ConstantOverride
    {
        public ConstantOverride(object value, Location location)
        {
            Value = value;
            Location = location;
        }

        public object Value { get; }
        public Location Location { get; }
        public int Int => TryGetInt(Value, out int v) ? v : 0;
    }

    /// <summary>The constant assigned, looking through the implicit conversion to the property's nullable type.</summary>
    private static bool TryGetConstant(IOperation value, out object? constant)
    {
        IOperation current = value;
        while (true)
        {
            if (current.ConstantValue.HasValue)
            {
                constant = current.ConstantValue.Value;
                return true;
            }
            if (current is IConversionOperation conversion) current = conversion.Operand;
            else break;
        }
        constant = null;
        return false;
    }

    private static bool TryGetInt(object value, out int result)
    {
        switch (value)
        {
            case int i: result = i; return true;
            case short s: result = s; return true;
            case ushort us: result = us; return true;
            case byte b: result = b; return true;
            case sbyte sb: result = sb; return true;
            case char c: result = c; return true;
            default: result = 0; return false;
        }
    }

    /// <summary>
    /// The app whose generated stub receives <paramref name="creation"/> as its options argument
    /// (<c>Physics.SimulateAsync(..., new FluxCallOptions { ... })</c>), with its [FluxApp] attribute; null otherwise.
    /// </summary>
    internal static IMethodSymbol? FindCalledApp(IObjectCreationOperation creation, INamedTypeSymbol optionsType, INamedTypeSymbol appAttribute, out AttributeData? attribute)
    {
        attribute = null;
        IOperation? parent = creation.Parent;
        while (parent is IConversionOperation { IsImplicit: true }) parent = parent.Parent;
        if (parent is not IArgumentOperation { Parent: IInvocationOperation invocation } argument) return null;
        if (argument.Parameter is null || !SymbolEqualityComparer.Default.Equals(argument.Parameter.Type.OriginalDefinition, optionsType)) return null;
        IMethodSymbol stub = invocation.TargetMethod;
        const string suffix = "Async";
        if (!stub.Name.EndsWith(suffix, StringComparison.Ordinal) || stub.Parameters.Length < 2 || !FluxAppValidation.IsGeneratedByFluxApps(stub)) return null;

        string appName = stub.Name.Substring(0, stub.Name.Length - suffix.Length);
        int appArity = stub.Parameters.Length - 2; // the stub adds options and a cancellation token
        foreach (var candidate in stub.ContainingType.GetMembers(appName).OfType<IMethodSymbol>())
        {
            if (candidate.Parameters.Length != appArity) continue;
            bool sameParameters = true;
            for (int i = 0; i < appArity && sameParameters; i++)
            {
                sameParameters = SymbolEqualityComparer.Default.Equals(
                    candidate.Parameters[i].Type.WithNullableAnnotation(NullableAnnotation.None),
                    stub.Parameters[i].Type.WithNullableAnnotation(NullableAnnotation.None));
            }
            if (!sameParameters) continue;
            attribute = candidate.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, appAttribute));
            if (attribute is not null) return candidate;
        }
        return null;
    }
}
