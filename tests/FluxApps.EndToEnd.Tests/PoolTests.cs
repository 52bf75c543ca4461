using System.Diagnostics;
using FluxApps;
using FluxApps.TestApps;
using FluxApps.Tests.Shared;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Pools on the local backend: failures, cancellation, time limits, worker loss, growth and shrinking, sharing the machine, disposal.</summary>
public sealed class PoolTests
{
    private static async Task<FluxAppsRuntime> StartAsync(params FluxPoolOptions[] pools) =>
        await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalCores = 2,
            Pools = pools,
        });

    private static FluxCallOptions In(FluxAppsRuntime rt, string pool = "p") => new() { Runtime = rt, Pool = pool };

    [Fact]
    public async Task AppExceptionFailsOnlyItsCallAndTheWorkerServesTheNext()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        var failed = Library.FailAsync("no good", In(rt));
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await failed);
        Assert.Equal("System.InvalidOperationException", ex.RemoteType);
        Assert.Equal("no good", ex.RemoteMessage);
        var next = Library.AddAsync(2, 3, In(rt));
        Assert.Equal(5, await next);
        Assert.Equal(failed.JobId, next.JobId); // the same worker job
    }

    [Theory]
    [InlineData("exit")]
    [InlineData("signal")]
    [InlineData("crash")]
    public async Task AWorkerThatDiesFailsItsCallWithWorkerLostAndIsReplaced(string how)
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        var first = Library.AddAsync(1, 1, In(rt));
        Assert.Equal(2, await first);
        var dying = how switch
        {
            "exit" => Library.ExitWithAsync(3, In(rt)),
            "signal" => Library.SignalSelfAsync(9, In(rt)),
            _ => Library.CrashAsync(In(rt)),
        };
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await dying);
        Assert.Equal(FluxJobFailureKind.WorkerLost, ex.Kind);
        if (how == "exit") Assert.Equal(3, ex.ExitCode);
        if (how == "signal") Assert.Equal(9, ex.Signal);
        var after = Library.AddAsync(2, 2, In(rt));
        Assert.Equal(4, await after);
        Assert.NotEqual(first.JobId, after.JobId); // a replacement worker
    }

    [Fact]
    public async Task KillingAWorkerFailsExactlyItsRunningCallsAndQueuedCallsRunOnAReplacement()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1, CpusPerWorker = 2 });
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string pidFile = Path.Combine(dir, "pid");
            var running = new[] { Library.WritePidThenSleepAsync(pidFile, 60_000, In(rt)), Library.SleepAsync(60_000, In(rt)) };
            var queued = Enumerable.Range(0, 3).Select(i => Library.AddAsync(i, 1, In(rt))).ToArray();
            int pid = await WaitForPid(pidFile);
            await Eventually.True(() => running.All(f => f.State == FluxJobState.Run));
            Assert.All(queued, f => Assert.Equal(FluxJobState.Sched, f.State));
            Process.GetProcessById(pid).Kill();
            foreach (var call in running)
            {
                var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await call);
                Assert.Equal(FluxJobFailureKind.WorkerLost, ex.Kind);
                Assert.Equal(9, ex.Signal);
            }
            int[] results = await Task.WhenAll(queued.Select(f => f.AsTask()));
            Assert.Equal(new[] { 1, 2, 3 }, results);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task CancellingARunningCallCompletesItAtOnceAndKeepsTheWorker()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1, CpusPerWorker = 2 });
        var warm = Library.AddAsync(1, 2, In(rt));
        await warm;
        using var cts = new CancellationTokenSource();
        var sleeping = Library.SleepAsync(1_000, In(rt), cts.Token);
        await Eventually.True(() => sleeping.State == FluxJobState.Run);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sleeping);
        var next = Library.AddAsync(3, 4, In(rt));
        Assert.Equal(7, await next);
        Assert.Equal(warm.JobId, next.JobId);
    }

    [Fact]
    public async Task ACallPastItsTimeLimitFailsWithTimeLimit()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1, CpusPerWorker = 2 });
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.SleepPastLimitAsync(3_000, In(rt)));
        Assert.Equal(FluxJobFailureKind.TimeLimit, ex.Kind);
        Assert.Equal(5, await Library.AddAsync(2, 3, In(rt)));
    }

    [Fact]
    public async Task ThePoolGrowsToItsSizeShrinksToZeroWhenIdleAndGrowsAgain()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 2, IdleTimeout = TimeSpan.FromMilliseconds(300) });
        var pool = () => rt.Pools.Find("p")!;
        var calls = Enumerable.Range(0, 4).Select(_ => Library.HoldAsync(400, In(rt))).ToArray();
        await Eventually.True(() => pool().WorkerCount == 2);
        var intervals = await Task.WhenAll(calls.Select(c => c.AsTask()));
        Assert.Equal(2, calls.Select(c => c.JobId).Distinct().Count());
        Assert.True(pool().WorkerCount <= 2);
        await Eventually.True(() => pool().WorkerCount == 0);
        var again = Library.AddAsync(1, 1, In(rt));
        Assert.Equal(2, await again);
        Assert.DoesNotContain(again.JobId, calls.Select(c => c.JobId));
    }

    [Fact]
    public async Task PooledAndPerJobCallsShareAFullMachineWithoutOversubscription()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 2 });
        var pooled = Enumerable.Range(0, 6).Select(_ => Library.HoldAsync(300, In(rt)).AsTask());
        var perJob = Enumerable.Range(0, 3).Select(_ => Library.HoldAsync(300, new FluxCallOptions { Runtime = rt }).AsTask());
        var all = await Task.WhenAll(pooled.Concat(perJob));
        // Every process is pinned to the cores it holds: two intervals that overlap ran on different cores.
        for (int i = 0; i < all.Length; i++)
            for (int j = i + 1; j < all.Length; j++)
                if (all[i].Start < all[j].End && all[j].Start < all[i].End && all[i].Cores != all[j].Cores) continue;
                else if (all[i].Start < all[j].End && all[j].Start < all[i].End) Assert.Fail($"calls {i} and {j} overlapped on cores {all[i].Cores}");
    }

    [Fact]
    public async Task DisposingTheRuntimeLeavesNoWorkerProcess()
    {
        var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 2 });
        var calls = Enumerable.Range(0, 4).Select(i => Library.AddAsync(i, i, In(rt)).AsTask()).ToArray();
        await Task.WhenAll(calls);
        var sleeping = Library.SleepAsync(60_000, In(rt));
        await Eventually.True(() => sleeping.State == FluxJobState.Run);
        var pids = rt.Pools.Find("p")!.Workers.Select(w => w.Pid).ToArray();
        Assert.NotEmpty(pids);
        await rt.DisposeAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sleeping);
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"worker {pid} still runs"));
    }

    [Fact]
    public async Task OptionsAPoolCannotHonourAreArgumentExceptionsNamingTheOption()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", CpusPerWorker = 1 });
        void Refused(string option, Action call) => Assert.Equal(option, Assert.Throws<ArgumentException>(call).ParamName);
        Action Call(Func<object> call) => () => call();
        Refused("MpiRanks", Call(() => Library.WhoAmIAsync("X", In(rt))));
        Refused("Cpus", Call(() => Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", Cpus = 2 })));
        Refused("Gpus", Call(() => Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", Gpus = 1 })));
        Refused("Environment", Call(() => Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", Environment = new Dictionary<string, string?>() })));
        Refused("WorkingDirectory", Call(() => Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", WorkingDirectory = "/tmp" })));
        Refused("Nodes", Call(() => Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", Nodes = 1 })));
        Refused("Queue", Call(() => Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", Queue = "batch" })));
        Refused("Pool", Call(() => CommandApps.SleepAsync(1, In(rt))));
        Assert.Equal(0, rt.PendingCount);
    }

    [Fact]
    public async Task AnInvalidPoolConfigurationIsAnArgumentExceptionNamingTheSetting()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 0 });
        var ex = Assert.Throws<ArgumentException>(() => { Library.AddAsync(1, 1, In(rt)); });
        Assert.Equal("MaxWorkers", ex.ParamName);
        Assert.Contains("MaxWorkers = 0", ex.Message);
    }

    [Fact]
    public async Task WorkersThatCanNeverStartFailTheirCallsInsteadOfHanging()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", CpusPerWorker = 64 });
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p", Cpus = 1 }));
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
    }

    [Fact]
    public async Task ACancelledQueuedCallNeverRuns()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        var blocker = Library.SleepAsync(500, In(rt));
        var queued = Library.AddAsync(1, 1, In(rt));
        queued.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queued);
        Assert.Equal(500, await blocker);
        Assert.Equal(2, await Library.AddAsync(1, 1, In(rt)));
    }

    [Fact]
    public async Task ThePoolOfTheAttributeIsUsedAndAnEmptyPoolPerCallGivesAJobOfItsOwn()
    {
        await using var rt = await StartAsync();
        var pooled = PoolApps.PooledAddAsync(1, 2, new FluxCallOptions { Runtime = rt });
        Assert.Equal(3, await pooled);
        Assert.Contains(pooled.Events, e => e.Name == "submit" && e.Context == "pool=attribute-pool");
        Assert.Equal(1, rt.Pools.Find("attribute-pool")!.WorkerCount);
        var own = PoolApps.PooledAddAsync(2, 3, new FluxCallOptions { Runtime = rt, Pool = "" });
        Assert.Equal(5, await own);
        Assert.Contains(own.Events, e => e.Name == "alloc"); // scheduled as a job of its own
        Assert.NotEqual(pooled.JobId, own.JobId);
    }

    private static async Task<int> WaitForPid(string file)
    {
        await Eventually.True(() => File.Exists(file));
        return int.Parse(await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task AWorkerWhoseClientWasKilledExitsByItself()
    {
        using var child = ChildClient.Start("pool", "local", TestPaths.WorkRoot);
        string[] worker = (await ChildClient.WaitForLine(child, "worker ", TimeSpan.FromMinutes(2))).Split(' ');
        int pid = int.Parse(worker[2]);
        Assert.True(Alive(pid));
        child.Kill(); // SIGKILL: the client disposes nothing and stops no worker
        await child.WaitForExitAsync();

        // Its connection closes with the client: the worker, now an orphan, exits.
        await Eventually.True(() => !Alive(pid), TimeSpan.FromSeconds(30), () => $"pool worker {pid} still running after its client was killed");
    }

    /// <summary>Running or stopped, not a zombie (an exited orphan waits for init to reap it).</summary>
    private static bool Alive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task AKeptPooledCallLeavesItsFilesAndRerunsByHandLikeAJob()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        var kept = new FluxCallOptions { Runtime = rt, Pool = "p", KeepFiles = true };
        Assert.Equal(5, await Library.AddAsync(2, 3, kept));
        var failed = Library.FailAsync("kept failure", kept);
        await Assert.ThrowsAsync<FluxAppException>(async () => await failed);
        Assert.Equal(7, await Library.AddAsync(3, 4, In(rt))); // not kept

        var directories = Directory.GetDirectories(rt.WorkingDirectory).Where(d => !Path.GetFileName(d).StartsWith("pool-", StringComparison.Ordinal))
            .OrderBy(d => d, StringComparer.Ordinal).ToArray();
        Assert.Equal(2, directories.Length);
        Assert.True(File.Exists(Path.Combine(directories[0], "args.bin")));
        Assert.True(File.Exists(Path.Combine(directories[0], "result.bin")));
        Assert.True(File.Exists(Path.Combine(directories[1], "error.0.bin")));

        // The kept call reruns by hand outside the pool, as a job's worker: the same failure, reported the same way.
        File.Delete(Path.Combine(directories[1], "error.0.bin"));
        var (code, stderr) = await WorkerByHand.RunAsync(rt, directories[1]);
        Assert.NotEqual(0, code);
        Assert.Contains("kept failure", stderr);
        Assert.True(File.Exists(Path.Combine(directories[1], "error.0.bin")));
    }
}
