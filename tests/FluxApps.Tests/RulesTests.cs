using FluxApps.Internal;

namespace FluxApps.Tests;

public sealed class RulesTests
{
    [Theory] // RFC 23's test vectors
    [InlineData("2ms", 0.002)]
    [InlineData("0.1s", 0.1)]
    [InlineData("30", 30)]
    [InlineData("1.2h", 4320)]
    [InlineData("5m", 300)]
    [InlineData("0s", 0)]
    [InlineData("5d", 432000)]
    [InlineData("1e2s", 100)]
    public void FluxStandardDurationsParse(string text, double seconds)
    {
        Assert.True(FluxAppRules.TryParseDuration(text, out double parsed));
        Assert.Equal(seconds, parsed, 9);
    }

    [Theory]
    [InlineData("inf")]
    [InlineData("INF")]
    [InlineData("infinity")]
    public void InfinityParses(string text)
    {
        Assert.True(FluxAppRules.TryParseDuration(text, out double parsed));
        Assert.True(double.IsPositiveInfinity(parsed));
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("10 minutes")]
    [InlineData("5M")]
    [InlineData("1.5.2s")]
    [InlineData("infs")]
    [InlineData("nan")]
    public void NonDurationsAreRejectedNamingTheText(string text)
    {
        Assert.False(FluxAppRules.TryParseDuration(text, out _));
        Assert.Contains($"\"{text}\"", FluxAppRules.CheckTimeLimit(text));
    }

    [Fact]
    public void ResourceRulesNameTheValue()
    {
        Assert.Contains("Cpus = 0", FluxAppRules.CheckCpus(0));
        Assert.Null(FluxAppRules.CheckCpus(1));
        Assert.Contains("Gpus = -2", FluxAppRules.CheckGpus(-2));
        Assert.Contains("MpiRanks = 0", FluxAppRules.CheckMpiRanks(0));
        Assert.Contains("Nodes = -1", FluxAppRules.CheckNodes(-1));
        Assert.Contains("Urgency = 32", FluxAppRules.CheckUrgency(32));
        Assert.Null(FluxAppRules.CheckUrgency(0));
        Assert.Null(FluxAppRules.CheckUrgency(31));
        Assert.Contains("Retries = -1", FluxAppRules.CheckRetries(-1));
        Assert.Null(FluxAppRules.CheckRetries(0));
        Assert.Null(FluxAppRules.CheckRetries(10));
        Assert.Equal("Nodes = 3 exceeds MpiRanks = 2: every node needs at least one rank", FluxAppRules.CheckNodesVersusRanks(3, 2));
        Assert.Null(FluxAppRules.CheckNodesVersusRanks(2, 2));
        Assert.NotNull(FluxAppRules.CheckExclusive(true, 0));
        Assert.Null(FluxAppRules.CheckExclusive(true, 1));
    }

    [Fact]
    public void ClusterFitChecksPerNodeArithmetic()
    {
        // 4 nodes x 8 cores x 2 GPUs
        Assert.Null(FluxAppRules.CheckClusterFit(cpus: 8, gpus: 2, ranks: 4, nodes: 4, clusterNodes: 4, coresPerNode: 8, gpusPerNode: 2));
        Assert.Contains("Cpus = 9", FluxAppRules.CheckClusterFit(9, 0, 1, 0, 4, 8, 2));
        Assert.Contains("Gpus = 3", FluxAppRules.CheckClusterFit(1, 3, 1, 0, 4, 8, 2));
        Assert.Contains("Nodes = 5", FluxAppRules.CheckClusterFit(1, 0, 5, 5, 4, 8, 2));
        Assert.Contains("12 cores", FluxAppRules.CheckClusterFit(4, 0, 6, 2, 4, 8, 2)); // 3 ranks x 4 cores per node
        Assert.Contains("4 GPUs", FluxAppRules.CheckClusterFit(1, 2, 4, 2, 4, 8, 2));    // 2 ranks x 2 GPUs per node
        Assert.Contains("at most 8", FluxAppRules.CheckClusterFit(4, 0, 9, 0, 4, 8, -1)); // 2 per node x 4 nodes
        Assert.Null(FluxAppRules.CheckClusterFit(4, 1, 100, 0, 0, 0, -1));              // unknown machine: nothing to check
    }
}
