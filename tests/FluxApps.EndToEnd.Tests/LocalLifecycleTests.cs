using FluxApps;
using FluxApps.Backends;
using FluxApps.Runtime;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// The local backend's job states: a cancel at any stage ends the job and gives its cores back (a job
/// needing every core runs next), and urgency holds, releases and reorders queued jobs as in Flux.
/// </summary>
public sealed class LocalLifecycleTests
{
    private const int Cores = 2;

    private static Task<FluxAppsRuntime> Start(int cores = Cores) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = cores, WorkingDirectory = TestPaths.WorkRoot });

    private static LocalBackend BackendOf(FluxAppsRuntime rt) => (LocalBackend)rt.JobBackend;

    /// <summary>Every core is free again: a job that needs them all runs, and the scheduler holds nothing.</summary>
    private static async Task AssertAllCoresCameBack(FluxAppsRuntime rt)
    {
        Assert.Equal(3, await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt, Cpus = Cores }).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        var backend = BackendOf(rt);
        Assert.Equal(Cores, backend.FreeCores);
        Assert.Equal(0, backend.ActiveJobCount);
    }

    [Fact]
    public async Task CancellingAQueuedJobGivesBackNothingItNeverHeld()
    {
        await using var rt = await Start();
        var busy = Library.SleepAsync(1000, new FluxCallOptions { Runtime = rt, Cpus = Cores });
        var queued = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt, MpiRanks = 2 });
        await FailureTests.WaitForState(busy, FluxJobState.Run);
        Assert.Equal(FluxJobState.Sched, queued.State);
        queued.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queued);
        Assert.DoesNotContain(queued.Events, e => e.Name == "alloc");
        Assert.Equal(1000, await busy);
        await AssertAllCoresCameBack(rt);
    }

    /// <summary>A 2-rank job waiting for a short job that holds every core: it starts (alloc) on another thread, later.</summary>
    private static async Task<FluxFuture<int>> QueuedBehindABusyMachine(FluxAppsRuntime rt)
    {
        var busy = Library.SleepAsync(300, new FluxCallOptions { Runtime = rt, Cpus = Cores });
        await FailureTests.WaitForState(busy, FluxJobState.Run);
        var queued = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt, MpiRanks = 2 });
        Assert.Equal(FluxJobState.Sched, queued.State);
        return queued;
    }

    [Fact]
    public async Task CancellingBetweenSchedulingAndTheFirstRankStartsNothingAndFreesTheCores()
    {
        await using var rt = await Start();
        var future = await QueuedBehindABusyMachine(rt);
        // alloc is raised on the launching thread after the cores are taken and before any rank starts.
        future.JobEvent += (_, e) => { if (e.Name == "alloc") future.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain(future.Events, e => e.Name == "start");
        await AssertAllCoresCameBack(rt);
    }

    [Fact]
    public async Task CancellingWhileAMultiRankJobIsStillStartingFreesTheCores()
    {
        await using var rt = await Start();
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var future = await QueuedBehindABusyMachine(rt);
            // From another thread, as the ranks are being launched: lands before, between or after the spawns.
            future.JobEvent += (_, e) => { if (e.Name == "alloc") _ = Task.Run(future.Cancel); };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            await AssertAllCoresCameBack(rt);
        }
    }

    [Fact]
    public async Task CancellingARunningMultiRankJobFreesTheCores()
    {
        await using var rt = await Start();
        var future = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt, MpiRanks = 2 });
        await FailureTests.WaitForState(future, FluxJobState.Run);
        await Wait.ForEvent(future, "start");
        future.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(future.Events, e => e.Name == "release");
        await AssertAllCoresCameBack(rt);
    }

    [Fact]
    public async Task ACancelThatArrivesBeforeTheBackendHasTheJobIsNotLost()
    {
        await using var rt = await Start();
        var app = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt });
        await app;
        var future = new FluxVoidFuture(app.App);
        var request = new JobRequest(future, JobResources.Resolve(app.App, null), Path.Combine(rt.WorkingDirectory, "early-cancel"), null, Environment.CurrentDirectory);
        var outcome = new TaskCompletionSource<JobOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        request.Completed = (_, o) => outcome.TrySetResult(o);
        var backend = BackendOf(rt);
        backend.Cancel(request); // the token fired between the runtime's check and Submit
        backend.Submit(request);
        Assert.IsType<JobOutcome.Cancelled>(await outcome.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain(future.Events, e => e.Name == "alloc");
        await AssertAllCoresCameBack(rt);
    }

    [Fact]
    public async Task UrgencyZeroHoldsTheJobUntilItIsRaised()
    {
        await using var rt = await Start();
        var held = Library.AddAsync(20, 22, new FluxCallOptions { Runtime = rt, Urgency = 0 });
        // The machine is idle and runs other jobs meanwhile; the held one waits.
        Assert.Equal(5, await Library.AddAsync(2, 3, new FluxCallOptions { Runtime = rt }));
        Assert.Equal(FluxJobState.Sched, held.State);
        Assert.DoesNotContain(held.Events, e => e.Name == "alloc");
        Assert.Contains(held.Events, e => e.Name == "priority" && e.Context.StartsWith("priority=0"));
        await held.SetUrgencyAsync(16);
        Assert.Equal(42, await held.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(held.Events, e => e.Name == "urgency" && e.Context == "urgency=16");
    }

    [Fact]
    public async Task RaisingALaterQueuedJobStartsItFirst()
    {
        await using var rt = await Start(cores: 1);
        var options = new FluxCallOptions { Runtime = rt };
        var busy = Library.SleepAsync(1500, options);
        await FailureTests.WaitForState(busy, FluxJobState.Run);
        var earlier = Library.HoldAsync(100, options);
        var later = Library.HoldAsync(100, options);
        await later.SetUrgencyAsync(20);
        var laterInterval = await later;
        var earlierInterval = await earlier;
        Assert.True(laterInterval.End <= earlierInterval.Start.AddMilliseconds(5),
            $"the raised job ran {laterInterval.Start:O}-{laterInterval.End:O}, the earlier one started {earlierInterval.Start:O}");
        await busy;
    }

    [Fact]
    public async Task UrgencyCannotChangeOnceTheJobHasItsCoresAndMustBeInRange()
    {
        await using var rt = await Start();
        var running = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
        await FailureTests.WaitForState(running, FluxJobState.Run);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => running.SetUrgencyAsync(20));
        Assert.Contains("is Run", ex.Message);
        var range = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => running.SetUrgencyAsync(32));
        Assert.Equal("urgency", range.ParamName);
        Assert.Contains("32", range.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => running.SetUrgencyAsync(-1));
        running.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await running);
        var over = await Assert.ThrowsAsync<InvalidOperationException>(() => running.SetUrgencyAsync(16));
        Assert.Contains("Inactive", over.Message);
    }

    [Fact]
    public async Task CallsWithoutAJobOfTheirOwnSayWhyTheirUrgencyCannotChange()
    {
        string dir = TestPaths.NewTempDirectory();
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            LocalCores = Cores,
            WorkingDirectory = TestPaths.WorkRoot,
            CheckpointDirectory = Path.Combine(dir, "checkpoints"),
            Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = 1 }],
        });
        try
        {
            // A pooled call: the pool orders its calls itself.
            var pooled = Library.SleepAsync(2_000, new FluxCallOptions { Runtime = rt, Pool = "p" });
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => pooled.SetUrgencyAsync(20));
            Assert.Contains("runs in pool p", ex.Message);
            Assert.DoesNotContain("not submitted yet", ex.Message);

            // A call served by an identical one that is running: it has no job at all.
            var options = new FluxCallOptions { Runtime = rt };
            var leader = CachedApps.SquareAsync(Path.Combine(dir, "runs"), 7, 1500, options);
            var follower = CachedApps.SquareAsync(Path.Combine(dir, "runs"), 7, 1500, options);
            ex = await Assert.ThrowsAsync<InvalidOperationException>(() => follower.SetUrgencyAsync(20));
            Assert.Contains("identical call", ex.Message);

            // A call between two attempts: asked from the retry event itself, so it is surely in the wait.
            var retried = RetryApps.FailTimesAsync(Path.Combine(dir, "retried"), 1, "exit", options);
            var duringWait = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
            retried.JobEvent += (_, e) => { if (e.Name == "retry") duringWait.TrySetResult(retried.SetUrgencyAsync(20)); };
            ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await await duringWait.Task.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("to be retried", ex.Message);
            Assert.DoesNotContain("Inactive", ex.Message); // not the failed attempt's job

            Assert.Equal(2, await retried);
            Assert.Equal(49, await leader);
            Assert.Equal(49, await follower);
            await pooled;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

internal static class Wait
{
    public static async Task ForEvent(FluxFuture future, string name, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!future.Events.Any(e => e.Name == name))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job never logged {name}; events: {string.Join(", ", future.Events.Select(e => e.Name))}");
            if (future.IsCompleted) await future;
            await Task.Delay(10);
        }
    }
}
