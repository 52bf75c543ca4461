using System.Diagnostics;
using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>The end-to-end calls the local backend passes, as real Flux jobs on a private one-broker instance.</summary>
public sealed class FluxCallTests(SingleBrokerFixture fixture) : IClassFixture<SingleBrokerFixture>
{
    private FluxCallOptions Options => fixture.Options;

    [SkippableFact]
    public async Task ACallIsAFluxJobWithItsIdEventsAndStates()
    {
        FluxAvailability.SkipIfAbsent();
        Assert.Equal(FluxBackend.Flux, fixture.Rt.Backend);
        Assert.StartsWith("flux: local://", fixture.Rt.BackendDescription);
        Assert.Contains("private instance", fixture.Rt.BackendDescription);
        var states = new List<FluxJobState>();
        var future = Library.AddAsync(40, 2, Options);
        var id = await future.Submitted;
        Assert.Equal(id, future.JobId);
        Assert.Equal(42, await future);
        Assert.Equal(FluxJobState.Inactive, future.State);
        Assert.StartsWith("ƒ", id.ToString());
        var names = future.Events.Select(e => e.Name).ToList();
        Assert.Equal(["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"], names);
        Assert.Contains("status=0", future.Events.Single(e => e.Name == "finish").Context);
        // Event times are Flux's own (RFC 18 timestamps): in order, and within the call's lifetime.
        var times = future.Events.Select(e => e.Timestamp).ToList();
        Assert.Equal(times.Order(), times);
        Assert.InRange(times[0], DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
        // Flux itself knows the job, by the same id, as completed.
        Assert.Equal("CD", await FluxCli.StatusAsync(fixture.Uri, id));
        Assert.Contains("Library.Add", await FluxCli.RunAsync(fixture.Uri, "jobs", "-a", "-n", "-o", "{name}", id.ToString()));
    }

    [SkippableFact]
    public async Task JobEventsAreRaisedAsTheyHappen()
    {
        FluxAvailability.SkipIfAbsent();
        var seen = new List<(string Name, FluxJobState State)>();
        var future = Library.AddAsync(1, 1, Options);
        future.JobEvent += (_, e) => { lock (seen) seen.Add((e.Name, future.State)); };
        await future;
        lock (seen)
        {
            Assert.Equal("clean", seen[^1].Name);
            Assert.Contains(("start", FluxJobState.Run), seen);
            Assert.Contains(("finish", FluxJobState.Cleanup), seen);
        }
    }

    [SkippableFact]
    public async Task RecordsCollectionsTuplesAndBytesRoundTrip()
    {
        FluxAvailability.SkipIfAbsent();
        var m = new Measurement("temp", [1.0, double.NaN], Phase.Gas, DateTime.UtcNow, Guid.NewGuid(), TimeSpan.FromSeconds(3), 7)
        {
            Tags = ["a", "ünïcødé ✓"],
            Metadata = new() { ["x"] = 1.25 },
        };
        var echoed = await Library.EchoAsync(m, Options);
        Assert.Equal(m.Name, echoed.Name);
        Assert.Equal(m.Values, echoed.Values);
        Assert.Equal(m.Tags, echoed.Tags);
        Assert.Equal((3, (string?)null, new Point(1, 2)), await Library.EchoTupleAsync(3, null, new Point(1, 2), Options));
        Assert.Equal(new byte[] { 3, 2, 1 }, await Library.ReverseAsync([1, 2, 3], Options));
        Assert.Equal(new Stats(3, 5, 2, 9), await Library.SummarizeAsync([2, 4, 9], Options));
    }

    [SkippableFact]
    public async Task VoidTaskAndValueTaskApps()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        string a = Path.Combine(dir, "void.txt"), b = Path.Combine(dir, "task.txt");
        await Library.WriteMarkerAsync(a, "void ran", Options);
        await Library.WriteMarkerLaterAsyncAsync(b, "task ran", Options);
        Assert.Equal("void ran", File.ReadAllText(a));
        Assert.Equal("task ran", File.ReadAllText(b));
        Assert.Equal(6L, await Library.SumLaterAsync([1, 2, 3], Options));
        Assert.Equal("HELLO", await Library.ShoutAsync(options: Options));
    }

    [SkippableFact]
    public async Task EnvironmentOverridesAndWorkingDirectoryReachTheJob()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        var options = new FluxCallOptions
        {
            Runtime = fixture.Rt,
            MpiRanks = 1,
            Environment = new Dictionary<string, string?> { ["FLUXAPPS_TEST_VALUE"] = "hello from the caller", ["HOME"] = null },
        };
        var info = await Library.WhoAmIAsync("FLUXAPPS_TEST_VALUE", options);
        Assert.Equal("hello from the caller", info.Variable);
        Assert.Null(await PlacementApps.VariableAsync("HOME", options));
        // The caller's own environment travels with the job, as flux submit passes it.
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), await PlacementApps.VariableAsync("PATH", Options));
        string cwd = await Library.CurrentDirectoryAsync(new FluxCallOptions { Runtime = fixture.Rt, WorkingDirectory = dir });
        Assert.Equal(Path.GetFullPath(dir).TrimEnd('/'), cwd.TrimEnd('/'));
    }

    [SkippableFact]
    public async Task RanksGetFluxsOwnEnvironment()
    {
        FluxAvailability.SkipIfAbsent();
        var future = Library.WhoAmIAsync("FLUX_TASK_RANK", Options); // MpiRanks = 2
        var info = await future;
        Assert.Equal((0, 2, 0, "0"), (info.Rank, info.Size, info.LocalRank, info.Variable));
        Assert.Equal(future.JobId.ToString(), info.JobId);

        string dir = TestPaths.NewTempDirectory();
        var ranks = RankApps.WriteRankFileAsync(dir, new FluxCallOptions { Runtime = fixture.Rt, MpiRanks = 2 });
        Assert.Equal(0, await ranks);
        for (int rank = 0; rank < 2; rank++)
            Assert.Equal($"{rank}/2 local {rank} task {rank} job {ranks.JobId}", File.ReadAllText(Path.Combine(dir, $"rank-{rank}")));
    }

    [SkippableFact]
    public async Task ShellOptionsReachTheJobShell()
    {
        FluxAvailability.SkipIfAbsent();
        int machineCpus = RankInfoCpus(await PlacementApps.AllowedCpusAsync(new FluxCallOptions { Runtime = fixture.Rt, MpiRanks = 1, ShellOptions = new Dictionary<string, string?> { ["cpu-affinity"] = "off" } }));
        Skip.If(machineCpus < 2, "needs 2 cores to tell per-task binding apart");
        // Flux's default binds the job's tasks to all of the job's cores; per-task gives each task its own.
        Assert.Equal(2, RankInfoCpus(await PlacementApps.AllowedCpusAsync(Options)));
        Assert.Equal(1, RankInfoCpus(await PlacementApps.AllowedCpusAsync(new FluxCallOptions
        {
            Runtime = fixture.Rt,
            ShellOptions = new Dictionary<string, string?> { ["cpu-affinity"] = "per-task" },
        })));
    }

    private static int RankInfoCpus(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries).Sum(part =>
    {
        var ends = part.Split('-');
        return ends.Length == 1 ? 1 : int.Parse(ends[1]) - int.Parse(ends[0]) + 1;
    });

    [SkippableFact]
    public async Task RemoteExceptionComesBack()
    {
        FluxAvailability.SkipIfAbsent();
        var future = Library.FailAsync("boom on the node", Options);
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await future);
        Assert.Equal("System.InvalidOperationException", ex.RemoteType);
        Assert.Equal("boom on the node", ex.RemoteMessage);
        Assert.Contains("Library.Fail", ex.RemoteStackTrace);
        Assert.Equal(future.JobId, ex.JobId);
        Assert.Equal("F", await FluxCli.StatusAsync(fixture.Uri, future.JobId!.Value));
    }

    [SkippableFact]
    public async Task ExitWithoutResultGivesTheExitCodeAndStderrTail()
    {
        FluxAvailability.SkipIfAbsent();
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.ExitWithAsync(3, Options));
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Equal(3, ex.ExitCode);
        Assert.Contains("rank 0", ex.Message);
        Assert.Contains("about to exit with 3", ex.StderrTail);
    }

    [SkippableFact]
    public async Task ACrashGivesTheSignal()
    {
        FluxAvailability.SkipIfAbsent();
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.CrashAsync(Options));
        Assert.Equal(FluxJobFailureKind.Signaled, ex.Kind);
        Assert.Equal(6, ex.Signal); // FailFast aborts: SIGABRT
        Assert.Contains("about to crash", ex.StderrTail);
    }

    [SkippableFact]
    public async Task AnExitCodeAbove128IsAnExitNotASignal()
    {
        FluxAvailability.SkipIfAbsent();
        // Flux's finish event says 130 for both exit(130) and SIGINT; the worker's exit record tells them apart.
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.ExitWithAsync(130, Options));
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Equal(130, ex.ExitCode);
        Assert.Null(ex.Signal);
    }

    [SkippableFact]
    public async Task ARealSignalStaysASignal()
    {
        FluxAvailability.SkipIfAbsent();
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.SignalSelfAsync(9, Options));
        Assert.Equal(FluxJobFailureKind.Signaled, ex.Kind);
        Assert.Equal(9, ex.Signal);
        Assert.Contains("about to send myself signal 9", ex.StderrTail);
    }

    [SkippableFact]
    public async Task UrgencyZeroHoldsTheJobInFluxUntilItIsRaised()
    {
        FluxAvailability.SkipIfAbsent();
        var held = Library.AddAsync(20, 22, new FluxCallOptions { Runtime = fixture.Rt, Urgency = 0 });
        await held.Submitted;
        // Flux runs other jobs meanwhile; the held one stays in SCHED with priority 0.
        Assert.Equal(5, await Library.AddAsync(2, 3, Options));
        await Wait.ForEvent(held, "priority");
        Assert.Equal(FluxJobState.Sched, held.State);
        Assert.DoesNotContain(held.Events, e => e.Name == "alloc");
        Assert.Contains(held.Events, e => e.Name == "priority" && e.Context.Contains("priority=0"));
        await held.SetUrgencyAsync(16);
        Assert.Equal(42, await held.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(held.Events, e => e.Name == "urgency" && e.Context.Contains("urgency=16"));
    }

    [SkippableFact]
    public async Task FluxRefusesUrgencyChangesOnceTheJobHasResources()
    {
        FluxAvailability.SkipIfAbsent();
        var running = Library.SleepAsync(60_000, Options);
        await Wait.ForEvent(running, "alloc");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => running.SetUrgencyAsync(20));
        Assert.Contains("resources are allocated", ex.Message);
        Assert.Contains("is Run", ex.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => running.SetUrgencyAsync(32));
        running.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await running);
        var over = await Assert.ThrowsAsync<InvalidOperationException>(() => running.SetUrgencyAsync(16));
        Assert.Contains("Inactive", over.Message);
    }

    [SkippableFact]
    public async Task OneRankFailingEndsTheJobAtOnce()
    {
        FluxAvailability.SkipIfAbsent();
        var clock = Stopwatch.StartNew();
        var future = Library.FailOnRankAsync(1, new FluxCallOptions { Runtime = fixture.Rt, MpiRanks = 2 });
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await future);
        Assert.Equal(1, ex.Rank);
        Assert.Contains("rank 1 refuses", ex.RemoteMessage);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"rank 0 (sleeping 30 s) should have been stopped, took {clock.Elapsed}");
        Assert.Contains(future.Events, e => e.Name == "exception" && e.Context.Contains("exit-on-error"));
    }

    [SkippableFact]
    public async Task AnUnsatisfiableRequestIsRejected()
    {
        FluxAvailability.SkipIfAbsent();
        var future = Library.HugeAsync(Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Contains("100000", ex.Message);
        Assert.Contains("unsatisfiable", ex.FluxExceptionText);
        Assert.NotNull(future.JobId);
        Assert.DoesNotContain(future.Events, e => e.Name == "alloc");

        var twoNodes = await Assert.ThrowsAsync<FluxJobException>(async () =>
            await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Rt, Nodes = 2, MpiRanks = 2 }));
        Assert.Equal(FluxJobFailureKind.Rejected, twoNodes.Kind);
    }

    [SkippableFact]
    public async Task AnUnknownQueueIsRefusedAtSubmit()
    {
        FluxAvailability.SkipIfAbsent();
        var future = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Rt, Queue = "no-such-queue" });
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Contains("queue", ex.Message);
        Assert.Null(future.JobId);
        await Assert.ThrowsAsync<FluxJobException>(() => future.Submitted);
    }

    [SkippableFact]
    public async Task TheTimeLimitKillsTheJob()
    {
        FluxAvailability.SkipIfAbsent();
        var future = Library.SleepPastLimitAsync(30_000, Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.TimeLimit, ex.Kind);
        Assert.Contains("1s", ex.Message);
        Assert.Contains("timeout", ex.FluxExceptionText);
        Assert.Equal("TO", await FluxCli.StatusAsync(fixture.Uri, future.JobId!.Value));
    }

    [SkippableFact]
    public async Task CancellingTheTokenCancelsTheRunningFluxJob()
    {
        FluxAvailability.SkipIfAbsent();
        using var cts = new CancellationTokenSource();
        var future = Library.SleepAsync(60_000, Options, cts.Token);
        await Wait.ForEvent(future, "start");
        await Task.Delay(300); // let the worker really start
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}");
        Assert.Contains(future.Events, e => e.Name == "exception" && e.Context.Contains("cancel"));
        Assert.Equal("CA", await FluxCli.StatusAsync(fixture.Uri, future.JobId!.Value));
        // Its core came back: the next call runs.
        Assert.Equal(3, await Library.AddAsync(1, 2, Options).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [SkippableFact]
    public async Task FutureCancelRemovesAQueuedJob()
    {
        FluxAvailability.SkipIfAbsent();
        var busy = Library.SleepAsync(3000, new FluxCallOptions { Runtime = fixture.Rt, Cpus = Environment.ProcessorCount });
        await Wait.ForEvent(busy, "alloc");
        var queued = Library.AddAsync(1, 1, Options);
        await queued.Submitted;
        await Task.Delay(200);
        Assert.Equal(FluxJobState.Sched, queued.State);
        queued.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queued);
        Assert.DoesNotContain(queued.Events, e => e.Name == "start");
        Assert.Equal("CA", await FluxCli.StatusAsync(fixture.Uri, queued.JobId!.Value));
        Assert.Equal(3000, await busy);
    }

    [SkippableFact]
    public async Task AnAlreadyCancelledTokenNeverSubmits()
    {
        FluxAvailability.SkipIfAbsent();
        var future = Library.AddAsync(1, 2, Options, new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        Assert.Null(future.JobId);
    }

    [SkippableFact]
    public async Task CancellingRightAfterSubmittingCancelsInFlux()
    {
        FluxAvailability.SkipIfAbsent();
        var futures = Enumerable.Range(0, 4).Select(_ => Library.SleepAsync(60_000, Options)).ToList();
        foreach (var f in futures) f.Cancel(); // before Flux has answered with ids
        foreach (var f in futures) await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await f);
        foreach (var f in futures.Where(f => f.JobId is not null))
            Assert.Equal("CA", await FluxCli.StatusAsync(fixture.Uri, f.JobId!.Value));
    }

    [SkippableFact]
    public async Task ManyCallsAllComplete()
    {
        FluxAvailability.SkipIfAbsent();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Library.AddAsync(i, i, Options).AsTask()));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 2 * i), results);
        Assert.Equal(0, fixture.Rt.PendingCount);
        Assert.Empty(Directory.GetDirectories(fixture.Rt.WorkingDirectory));
    }

    [SkippableFact]
    public async Task AnotherRuntimeConnectsToTheSameInstanceByUriAndCancelsItsJobsWhenDisposed()
    {
        FluxAvailability.SkipIfAbsent();
        var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, FluxUri = fixture.Uri, WorkingDirectory = TestPaths.WorkRoot });
        FluxFuture<int> running;
        try
        {
            Assert.DoesNotContain("private instance", rt.BackendDescription);
            Assert.Equal(5, await Library.AddAsync(2, 3, new FluxCallOptions { Runtime = rt }));
            running = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
            await Wait.ForEvent(running, "start");
        }
        finally
        {
            await rt.DisposeAsync();
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await running);
        // The instance outlives that runtime; the job it left did not.
        Assert.Equal("CA", await FluxCli.StatusAsync(fixture.Uri, running.JobId!.Value));
        Assert.Throws<ObjectDisposedException>(() => { Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }); });
        Assert.Equal(3, await Library.AddAsync(1, 2, Options)); // the fixture's runtime is untouched
    }

    [SkippableFact]
    public async Task AutoConnectsToFluxUri()
    {
        FluxAvailability.SkipIfAbsent();
        using var env = new EnvironmentScope("FLUX_URI", fixture.Uri, "FLUXAPPS_BACKEND", null);
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { WorkingDirectory = TestPaths.WorkRoot });
        Assert.Equal(FluxBackend.Flux, rt.Backend);
        Assert.Contains(fixture.Uri, rt.BackendDescription);
        Assert.Equal(7, await Library.AddAsync(3, 4, new FluxCallOptions { Runtime = rt }));
    }
}
