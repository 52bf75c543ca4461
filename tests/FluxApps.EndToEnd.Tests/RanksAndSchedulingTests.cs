using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Ranks get Flux's environment; the local backend holds, pins and queues cores honestly.</summary>
public sealed class RanksAndSchedulingTests
{
    private static Task<FluxAppsRuntime> Start(int cores, int? gpus = null) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = cores, LocalGpus = gpus, WorkingDirectory = TestPaths.WorkRoot });

    [Fact]
    public async Task TheDescriptionSaysHowRanksStart()
    {
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = 2, LocalGpus = 0, WorkingDirectory = TestPaths.WorkRoot });
        Assert.Matches(@"^local: 2 cores, 0 GPUs, jobs contained by .+, ranks started with (posix_spawn|System\.Diagnostics\.Process)$", rt.BackendDescription);
        // On Linux 5.3+ with glibc 2.29+ (this project's machines), posix_spawn and pidfds are there.
        if (OperatingSystem.IsLinux() && Environment.OSVersion.Version >= new Version(5, 3) && Environment.GetEnvironmentVariable("FLUXAPPS_LOCAL_SPAWN") is null)
            Assert.EndsWith("posix_spawn", rt.BackendDescription);
    }

    [Fact]
    public async Task ByDefaultLocalFilesLiveInMemoryPrivateToTheUserAndGoAtDispose()
    {
        if (Environment.GetEnvironmentVariable("FLUXAPPS_WORKDIR") is not null) return; // the variable decides instead
        string? xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        string expectedRoot = !string.IsNullOrEmpty(xdg) && Directory.Exists(xdg) ? xdg : "/dev/shm";
        string dir;
        await using (var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local }))
        {
            dir = rt.WorkingDirectory;
            Assert.Equal(expectedRoot, Path.GetDirectoryName(dir));
            Assert.StartsWith("fluxapps-", Path.GetFileName(dir));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
            Assert.Equal(7, await Library.AddAsync(3, 4, new FluxCallOptions { Runtime = rt }));
        }
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task EveryRankSeesItsContextAndRankZeroReturns()
    {
        await using var rt = await Start(cores: 2);
        var future = Library.WhoAmIAsync("FLUX_TASK_RANK", new FluxCallOptions { Runtime = rt });
        var info = await future;
        Assert.Equal(0, info.Rank);
        Assert.Equal(2, info.Size);
        Assert.Equal(0, info.LocalRank);
        Assert.Equal("0", info.Variable);
        Assert.Equal(future.JobId.ToString(), info.JobId);
    }

    [Fact]
    public async Task AllRanksRunWithTheirOwnRankVariables()
    {
        await using var rt = await Start(cores: 2);
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var future = RankApps.WriteRankFileAsync(dir, new FluxCallOptions { Runtime = rt, MpiRanks = 3, Cpus = 1 });
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future); // 3 ranks x 1 core > 2 cores
            Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);

            future = RankApps.WriteRankFileAsync(dir, new FluxCallOptions { Runtime = rt, MpiRanks = 2 });
            Assert.Equal(0, await future);
            for (int rank = 0; rank < 2; rank++)
                Assert.Equal($"{rank}/2 local {rank} task {rank} job {future.JobId}", File.ReadAllText(Path.Combine(dir, $"rank-{rank}")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task AnyRankFailingFailsTheCallAndStopsTheOthers()
    {
        await using var rt = await Start(cores: 3);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await Library.FailOnRankAsync(2, new FluxCallOptions { Runtime = rt }));
        Assert.Equal(2, ex.Rank);
        Assert.Equal("System.ArgumentException", ex.RemoteType);
        Assert.Contains("rank 2 refuses", ex.RemoteMessage);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), "the surviving ranks should have been stopped, not waited for");
    }

    [Fact]
    public async Task WorkersArePinnedToTheirOwnCores()
    {
        await using var rt = await Start(cores: 2);
        var a = Library.HoldAsync(1500, new FluxCallOptions { Runtime = rt });
        var b = Library.HoldAsync(1500, new FluxCallOptions { Runtime = rt });
        var ia = await a;
        var ib = await b;
        Assert.Equal(1, CountCpus(ia.Cores));
        Assert.Equal(1, CountCpus(ib.Cores));
        if (CountCpus(ThisProcessCpus()) >= 2)
            Assert.NotEqual(ia.Cores, ib.Cores); // they ran at the same time, each on its own core
    }

    internal static string ThisProcessCpus() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list:")).Split(':')[1].Trim();

    /// <summary>Number of CPUs in a list such as "0-3,6".</summary>
    internal static int CountCpus(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries).Sum(part =>
    {
        var ends = part.Split('-');
        return ends.Length == 1 ? 1 : int.Parse(ends[1]) - int.Parse(ends[0]) + 1;
    });

    [Fact]
    public async Task AppsQueueWhenTheMachineIsFullAndRunWhenCoresFree()
    {
        await using var rt = await Start(cores: 1);
        var options = new FluxCallOptions { Runtime = rt };
        var first = Library.HoldAsync(800, options);
        var second = Library.HoldAsync(800, options);
        var i1 = await first;
        var i2 = await second;
        // One core: the second app starts only after the first ended.
        Assert.True(i2.Start >= i1.End.AddMilliseconds(-5), $"second started {i2.Start:O}, first ended {i1.End:O}");
        Assert.Contains(second.Events, e => e.Name == "alloc");
    }

    [Fact]
    public async Task FirstFitStartsASmallJobPastABigOneThatDoesNotFitYet()
    {
        await using var rt = await Start(cores: 2);
        var one = Library.HoldAsync(1500, new FluxCallOptions { Runtime = rt });
        await FailureTests.WaitForState(one, FluxJobState.Run);
        var big = Library.HoldAsync(100, new FluxCallOptions { Runtime = rt, Cpus = 2 });   // needs both cores: waits
        var small = Library.HoldAsync(100, new FluxCallOptions { Runtime = rt });           // fits the free core: runs now
        var smallInterval = await small;
        var oneInterval = await one;
        var bigInterval = await big;
        Assert.True(smallInterval.End <= oneInterval.End, "the small job should not wait for the running one");
        Assert.True(bigInterval.Start >= oneInterval.End.AddMilliseconds(-5), "the 2-core job needs the busy core");
        Assert.Equal(Math.Min(2, CountCpus(ThisProcessCpus())), CountCpus(bigInterval.Cores));
    }

    [Fact]
    public async Task GpusAreHandedOutThroughCudaVisibleDevices()
    {
        await using var rt = await Start(cores: 2, gpus: 2);
        var a = Library.VisibleGpusAsync(new FluxCallOptions { Runtime = rt });
        var b = Library.VisibleGpusAsync(new FluxCallOptions { Runtime = rt });
        var seen = new[] { await a, await b };
        Assert.All(seen, v => Assert.Matches("^[01]$", v));
        var noGpu = await Library.WhoAmIAsync("CUDA_VISIBLE_DEVICES", new FluxCallOptions { Runtime = rt, MpiRanks = 1 });
        Assert.Equal("-1", noGpu.Variable); // an app that asked for no GPU may not touch the others'
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () =>
            await Library.VisibleGpusAsync(new FluxCallOptions { Runtime = rt, Gpus = 3 }));
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Contains("3 GPUs", ex.Message);
    }

    [Fact]
    public async Task ManyCallsAllComplete()
    {
        await using var rt = await Start(cores: 2);
        var options = new FluxCallOptions { Runtime = rt };
        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Library.AddAsync(i, i, options).AsTask()));
        Assert.Equal(Enumerable.Range(0, 24).Select(i => 2 * i), results);
        Assert.Equal(0, rt.PendingCount);
    }

    [Fact]
    public async Task DisposingTheRuntimeCancelsPendingCalls()
    {
        var rt = await Start(cores: 1);
        var running = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
        var queued = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
        await FailureTests.WaitForState(running, FluxJobState.Run);
        await rt.DisposeAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await running);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queued);
        Assert.False(Directory.Exists(rt.WorkingDirectory));
        Assert.Throws<ObjectDisposedException>(() => { Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }); });
    }
}
