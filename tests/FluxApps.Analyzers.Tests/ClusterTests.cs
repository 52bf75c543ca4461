using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>FLUX011: per-node arithmetic against [assembly: FluxCluster(...)].</summary>
public class ClusterTests
{
    private static string App(string cluster, string arguments) => $$"""
        using FluxApps;
        {{(cluster.Length == 0 ? "" : $"[assembly: FluxCluster({cluster})]")}}
        public static partial class Physics
        {
            [FluxApp({{arguments}})]
            public static int Simulate(int steps) => steps;
        }
        """;

    private const string Machine = "Nodes = 4, CoresPerNode = 16, GpusPerNode = 2";

    [Theory]
    [InlineData(Machine, "Cpus = 16")]
    [InlineData(Machine, "Gpus = 2")]
    [InlineData(Machine, "Nodes = 4, MpiRanks = 4")]
    [InlineData(Machine, "MpiRanks = 64")]                         // 16 ranks of 1 core on each of 4 nodes
    [InlineData(Machine, "MpiRanks = 8, Gpus = 1")]                // 2 per node
    [InlineData(Machine, "MpiRanks = 8, Nodes = 4, Cpus = 8")]     // 2 ranks x 8 cores per node
    [InlineData(Machine, "MpiRanks = 7, Nodes = 4, Gpus = 1")]     // at most 2 ranks on a node
    [InlineData("CoresPerNode = 16", "Gpus = 8, MpiRanks = 1000")] // GPUs and node count unknown
    [InlineData("Nodes = 2", "Cpus = 1000")]                       // cores unknown
    [InlineData("", "Cpus = 1000, Gpus = 64, MpiRanks = 100000")]  // no cluster declared
    public Task RequestsThatFit_AreSilent(string cluster, string arguments) => Verify.Diagnostics(App(cluster, arguments));

    [Theory]
    [InlineData(Machine, "{|FLUX011:Cpus = 17|}")]
    [InlineData(Machine, "{|FLUX011:Gpus = 3|}")]
    [InlineData(Machine, "MpiRanks = 8, {|FLUX011:Nodes = 5|}")]
    [InlineData(Machine, "{|FLUX011:MpiRanks = 65|}")]
    [InlineData(Machine, "{|FLUX011:MpiRanks = 9|}, Gpus = 1")]
    [InlineData(Machine, "{|FLUX011:MpiRanks = 8|}, Nodes = 2, Cpus = 8")]
    [InlineData(Machine, "Nodes = 2, Cpus = 16, {|FLUX011:MpiRanks = 4|}")]  // per-node load: on MpiRanks first

    [InlineData("Nodes = 4, CoresPerNode = 16, GpusPerNode = 0", "{|FLUX011:Gpus = 1|}")]
    public Task RequestsThatCannotFit_AreFlux011(string cluster, string arguments) => Verify.Diagnostics(App(cluster, arguments));

    [Fact]
    public Task PerNodeArithmetic_IsSpelledOut() => Verify.Diagnostics(App(Machine, "{|#0:MpiRanks = 8|}, Nodes = 2, Cpus = 8"),
        Verify.Diagnostic("FLUX011").WithLocation(0).WithMessage(
            "[FluxApp] method 'Simulate' cannot fit the declared cluster: MpiRanks = 8 on Nodes = 2 puts 4 ranks of Cpus = 8 on a node: 32 cores, more than the cluster's 16 cores per node"));

    [Fact]
    public Task GpusPerRank_AreCheckedAgainstGpusPerNode() => Verify.Diagnostics(App(Machine, "{|#0:Gpus = 4|}"),
        Verify.Diagnostic("FLUX011").WithLocation(0).WithMessage(
            "[FluxApp] method 'Simulate' cannot fit the declared cluster: Gpus = 4 exceeds the cluster's 2 GPUs per node: one rank cannot span nodes"));

    [Fact]
    public Task WholeMachine_IsCheckedWhenNodesAreLeftToTheScheduler() => Verify.Diagnostics(App(Machine, "{|#0:MpiRanks = 9|}, Gpus = 1"),
        Verify.Diagnostic("FLUX011").WithLocation(0).WithMessage(
            "[FluxApp] method 'Simulate' cannot fit the declared cluster: MpiRanks = 9 with Cpus = 1 and Gpus = 1 per rank needs more than the cluster's 4 nodes: at most 8 such ranks fit"));

    [Fact]
    public Task OutOfRangeValues_AreFlux003Only() => Verify.Diagnostics(App(Machine, "{|FLUX003:Cpus = 0|}, MpiRanks = 1000"));

    [Fact]
    public Task ClusterInAnotherFile_Applies() => Verify.Diagnostics(
        App("", "{|FLUX011:Cpus = 64|}"),
        "[assembly: FluxApps.FluxCluster(CoresPerNode = 32)]");
}
