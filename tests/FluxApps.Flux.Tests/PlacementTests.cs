using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>Placement across the brokers of <c>flux start --test-size=4</c>: four "nodes" on this machine.</summary>
public sealed class PlacementTests(FourBrokerFixture fixture) : IClassFixture<FourBrokerFixture>
{
    [SkippableFact]
    public async Task TheInstanceHasFourBrokers()
    {
        FluxAvailability.SkipIfAbsent();
        Assert.Contains("4 broker(s)", fixture.Rt.BackendDescription);
        Assert.Equal(4, (await FluxCli.RunAsync(fixture.Uri, "resource", "list", "-n", "-o", "{nnodes}")).Trim() switch { var s => int.Parse(s) });
    }

    [SkippableFact]
    public async Task TwoNodesReallySpanTwoBrokers()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        var future = PlacementApps.ReportPlacementAsync(dir, fixture.Options); // MpiRanks = 2, Nodes = 2
        Assert.Equal(2, await future);
        var reports = Enumerable.Range(0, 2).Select(r => File.ReadAllLines(Path.Combine(dir, $"rank-{r}"))).ToArray();
        // Each rank talks to the broker it runs on: two different brokers.
        Assert.NotEqual(reports[0][0], reports[1][0]);
        Assert.All(reports, r => Assert.Equal("2", r[1]));      // FLUX_JOB_NNODES
        Assert.All(reports, r => Assert.Equal("2", r[2]));      // size
        Assert.All(reports, r => Assert.Equal("0", r[3]));      // one task per node: local rank 0 on each
        Assert.All(reports, r => Assert.Equal(future.JobId.ToString(), r[5]));
        string nodelist = (await FluxCli.RunAsync(fixture.Uri, "jobs", "-a", "-n", "-o", "{nnodes}", future.JobId!.Value.ToString())).Trim();
        Assert.Equal("2", nodelist);
    }

    [SkippableFact]
    public async Task FourRanksOnFourNodesSeeFourNodes()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        Assert.Equal(4, await PlacementApps.ReportPlacementAsync(dir, new FluxCallOptions { Runtime = fixture.Rt, MpiRanks = 4, Nodes = 4 }));
        var uris = Enumerable.Range(0, 4).Select(r => File.ReadAllLines(Path.Combine(dir, $"rank-{r}"))[0]).ToHashSet();
        Assert.Equal(4, uris.Count);
    }

    [SkippableFact]
    public async Task UnevenRanksOverNodesAllRun()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        Assert.Equal(2, await PlacementApps.ReportPlacementAsync(dir, new FluxCallOptions { Runtime = fixture.Rt, MpiRanks = 3, Nodes = 2 }));
        Assert.Equal(3, Directory.GetFiles(dir, "rank-*").Length);
        var perNode = Enumerable.Range(0, 3).Select(r => File.ReadAllLines(Path.Combine(dir, $"rank-{r}"))[0]).GroupBy(u => u).Select(g => g.Count()).OrderBy(n => n);
        Assert.Equal([1, 2], perNode);
    }

    [SkippableFact]
    public async Task ExclusiveTakesTheWholeNode()
    {
        FluxAvailability.SkipIfAbsent();
        var shared = Library.AddAsync(1, 1, new FluxCallOptions { Runtime = fixture.Rt, Nodes = 1 });
        await shared;
        var exclusive = Library.AddAsync(1, 1, new FluxCallOptions { Runtime = fixture.Rt, Nodes = 1, Exclusive = true });
        await exclusive;
        string Summary(FluxFuture f) => f.Events.Single(e => e.Name == "alloc").Context;
        string cores = (await FluxCli.RunAsync(fixture.Uri, "resource", "list", "-n", "-o", "{ncores}")).Trim();
        int coresPerNode = int.Parse(cores) / 4;
        Skip.If(coresPerNode < 2, "needs nodes of 2 or more cores to tell exclusive apart");
        Assert.Matches(@"rank\d+/core\d+""", Summary(shared));                       // one core
        Assert.Matches($@"rank\d+/core\[0-{coresPerNode - 1}\]", Summary(exclusive));  // all of the node's cores
    }

    [SkippableFact]
    public async Task MoreNodesThanTheInstanceHasIsRejected()
    {
        FluxAvailability.SkipIfAbsent();
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () =>
            await Library.AddAsync(1, 1, new FluxCallOptions { Runtime = fixture.Rt, MpiRanks = 5, Nodes = 5 }));
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Contains("unsatisfiable", ex.FluxExceptionText);
    }
}
