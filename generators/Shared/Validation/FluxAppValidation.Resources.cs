#nullable enable
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxApps.Internal;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators;

/// <summary>Rules on the attribute's values: the resource request, its duration, names, and the declared cluster.</summary>
internal static partial class FluxAppValidation
{
    /// <summary>The shape of the machine declared by [assembly: FluxCluster]: 0 nodes or cores and -1 GPUs mean unknown.</summary>
    public static void ReadCluster(AttributeData cluster, out int nodes, out int coresPerNode, out int gpusPerNode)
    {
        nodes = 0;
        coresPerNode = 0;
        gpusPerNode = -1;
        foreach (var pair in cluster.NamedArguments)
        {
            if (pair.Value.Value is not int v) continue;
            if (pair.Key == "Nodes") nodes = v;
            else if (pair.Key == "CoresPerNode") coresPerNode = v;
            else if (pair.Key == "GpusPerNode") gpusPerNode = v;
        }
    }

    /// <summary>FLUX003, FLUX004, FLUX008, FLUX010, FLUX022, and FLUX011 when <paramref name="cluster"/> is given: the attribute's values, each reported on its own argument.</summary>
    private static void CheckResources(IMethodSymbol method, AttributeData attribute, AttributeData? cluster, List<FluxAppProblem> problems, CancellationToken cancellationToken)
    {
        var r = FluxAppResources.Read(attribute);
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        AttributeArgumentSyntax? Argument(string name) =>
            syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
        Location Where(string name) =>
            Argument(name)?.GetLocation() ?? syntax?.GetLocation() ?? method.Locations.FirstOrDefault() ?? Location.None;
        void Add(DiagnosticDescriptor descriptor, string property, string? message)
        {
            if (message is not null) problems.Add(new FluxAppProblem(descriptor, Where(property), message));
        }

        Add(FluxDiagnostics.ResourceOutOfRange, "Cpus", FluxAppRules.CheckCpus(r.Cpus));
        Add(FluxDiagnostics.ResourceOutOfRange, "Gpus", FluxAppRules.CheckGpus(r.Gpus));
        Add(FluxDiagnostics.ResourceOutOfRange, "MpiRanks", FluxAppRules.CheckMpiRanks(r.MpiRanks));
        Add(FluxDiagnostics.ResourceOutOfRange, "Nodes", FluxAppRules.CheckNodes(r.Nodes));
        Add(FluxDiagnostics.ResourceOutOfRange, "Urgency", FluxAppRules.CheckUrgency(r.Urgency));
        Add(FluxDiagnostics.ResourceOutOfRange, "Retries", FluxAppRules.CheckRetries(r.Retries));
        Add(FluxDiagnostics.NodesExceedRanks, "Nodes", FluxAppRules.CheckNodesVersusRanks(r.Nodes, r.MpiRanks));
        Add(FluxDiagnostics.InvalidTimeLimit, "TimeLimit", FluxAppRules.CheckTimeLimit(r.TimeLimit));
        // A negative node count is FLUX003's; fixing it settles Exclusive too, so no second error.
        if (r.Nodes >= 0) Add(FluxDiagnostics.ExclusiveWithoutNodes, "Exclusive", FluxAppRules.CheckExclusive(r.Exclusive, r.Nodes));
        Add(FluxDiagnostics.EmptyText, "Name", FluxAppRules.CheckName(r.Name));
        Add(FluxDiagnostics.EmptyText, "Queue", FluxAppRules.CheckQueue(r.Queue));
            bool isCommand = method.ReturnType.ToDisplayString() == "FluxApps.FluxCommand";
            Add(FluxDiagnostics.PoolCannotRun, "Pool", FluxAppRules.CheckPool(r.Pool, r.MpiRanks, isCommand));
        if (cluster is not null)
        {
            ReadCluster(cluster, out int nodes, out int cores, out int gpus);
            string? fit = FluxAppRules.CheckClusterFit(r.Cpus, r.Gpus, r.MpiRanks, r.Nodes, nodes, cores, gpus, out string[] blamed);
            if (fit is not null)
            {
                // On the first blamed property the user wrote; on the attribute when all are defaults.
                string property = blamed.FirstOrDefault(p => Argument(p) is not null) ?? "";
                problems.Add(new FluxAppProblem(FluxDiagnostics.DoesNotFitCluster, Where(property), $"[FluxApp] method '{method.Name}' cannot fit the declared cluster: {fit}"));
            }
        }
    }
}
