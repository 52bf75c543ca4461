using FluxApps;
using FluxApps.TestApps;
using FluxApps.Tests.Shared;

namespace FluxApps.Flux.Tests;

/// <summary>Pools on a real two-broker Flux instance: workers are Flux jobs, calls of every kind, worker loss, disposal.</summary>
public sealed class FluxPoolTests(TwoBrokerFixture fixture) : IClassFixture<TwoBrokerFixture>
{
    /// <summary>A runtime of its own on the fixture's instance, with a small pool.</summary>
    private async Task<FluxAppsRuntime> StartAsync(int workers = 2, int cpus = 1, TimeSpan? idleTimeout = null) =>
        await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux,
            FluxUri = fixture.Uri,
            WorkingDirectory = TestPaths.WorkRoot,
            Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = workers, CpusPerWorker = cpus, IdleTimeout = idleTimeout }],
        });

    private static FluxCallOptions In(FluxAppsRuntime rt) => new() { Runtime = rt, Pool = "p" };

    private async Task<string[]> ActiveJobs() =>
        (await FluxCli.RunAsync(fixture.Uri, "jobs", "-n", "-o", "{id.f58}")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [SkippableFact]
    public async Task PooledCallsOfEveryKindRunInWorkersThatAreFluxJobs()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartAsync();
        var add = Library.AddAsync(40, 2, In(rt));
        Assert.Equal(42, await add);
        Assert.Contains(add.JobId!.Value.ToString(), await ActiveJobs()); // the worker job, still running
        var m = new Measurement("temp", [1.0, double.NaN], Phase.Gas, DateTime.UtcNow, Guid.NewGuid(), TimeSpan.FromSeconds(3), 7) { Tags = ["a", "ü"] };
        var echoed = await Library.EchoAsync(m, In(rt));
        Assert.Equal(m.Values, echoed.Values);
        Assert.Equal(m.Tags, echoed.Tags);
        Assert.Equal("HELLO", await Library.ShoutAsync("hello", In(rt)));
        Assert.Equal(6L, await Library.SumLaterAsync([1, 2, 3], In(rt)));
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await Library.FailAsync("nope", In(rt)));
        Assert.Equal("nope", ex.RemoteMessage);
        var limit = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.SleepPastLimitAsync(3_000, In(rt)));
        Assert.Equal(FluxJobFailureKind.TimeLimit, limit.Kind);
        var lost = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.ExitWithAsync(3, In(rt)));
        Assert.Equal(FluxJobFailureKind.WorkerLost, lost.Kind);
        Assert.Equal(3, lost.ExitCode);
        Assert.Equal(5, await Library.AddAsync(2, 3, In(rt)));
    }

    [SkippableFact]
    public async Task FluxCancelOfAWorkerJobFailsItsRunningCallsAndQueuedCallsRunOnAReplacement()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartAsync(workers: 1, cpus: 2);
        var running = new[] { Library.SleepAsync(60_000, In(rt)), Library.SleepAsync(60_000, In(rt)) };
        var queued = Enumerable.Range(0, 3).Select(i => Library.AddAsync(i, 10, In(rt))).ToArray();
        await Eventually.True(() => running.All(f => f.State == FluxJobState.Run));
        var worker = running[0].JobId!.Value;
        await FluxCli.RunAsync(fixture.Uri, "cancel", worker.ToString());
        foreach (var call in running)
        {
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await call);
            Assert.Equal(FluxJobFailureKind.WorkerLost, ex.Kind);
        }
        int[] results = await Task.WhenAll(queued.Select(f => f.AsTask()));
        Assert.Equal(new[] { 10, 11, 12 }, results);
        Assert.All(queued, f => Assert.NotEqual(worker, f.JobId));
    }

    [SkippableFact]
    public async Task KillingAWorkerProcessFailsItsCallWithWorkerLost()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartAsync(workers: 1);
        var dying = Library.SignalSelfAsync(9, In(rt));
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await dying);
        Assert.Equal(FluxJobFailureKind.WorkerLost, ex.Kind);
        Assert.Equal(9, ex.Signal);
        Assert.Equal(2, await Library.AddAsync(1, 1, In(rt)));
    }

    [SkippableFact]
    public async Task DisposingTheRuntimeLeavesNoWorkerJob()
    {
        FluxAvailability.SkipIfAbsent();
        var rt = await StartAsync();
        var calls = Enumerable.Range(0, 8).Select(i => Library.AddAsync(i, 1, In(rt)).AsTask()).ToArray();
        await Task.WhenAll(calls);
        var sleeping = Library.SleepAsync(60_000, In(rt));
        await Eventually.True(() => sleeping.State == FluxJobState.Run);
        var workers = rt.Pools.Find("p")!.Workers.Select(w => w.Job.ToString()).ToArray();
        Assert.NotEmpty(workers);
        await rt.DisposeAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sleeping);
        var active = await ActiveJobs();
        Assert.All(workers, w => Assert.DoesNotContain(w, active));
    }

    /// <summary>The broker ranks a job runs on, as <c>flux jobs -o {ranks}</c> prints them.</summary>
    private async Task<string> RanksOf(FluxJobId job) => (await FluxCli.RunAsync(fixture.Uri, "jobs", "-a", "-n", "-o", "{ranks}", job.ToString())).Trim();

    /// <summary>Options of a call that holds a whole worker of a pool whose workers hold a node's cores each.</summary>
    private static FluxCallOptions Whole(FluxAppsRuntime rt) => new() { Runtime = rt, Pool = "p", Cpus = Environment.ProcessorCount };

    [SkippableFact]
    public async Task WorkersRunOnEveryBrokerRankAndCallsCompleteOnTheRankOtherThanTheClients()
    {
        FluxAvailability.SkipIfAbsent();
        // Two workers holding a node's cores each: one per broker, so one runs on rank 1 (the client is on rank 0).
        await using var rt = await StartAsync(workers: 2, cpus: Environment.ProcessorCount);
        var sleeping = new[] { Library.SleepAsync(1_500, Whole(rt)), Library.SleepAsync(1_500, Whole(rt)) };
        await Eventually.True(() => sleeping.All(f => f.State == FluxJobState.Run));
        var ranks = new HashSet<string>();
        foreach (var call in sleeping) ranks.Add(await RanksOf(call.JobId!.Value));
        Assert.Equal(new HashSet<string> { "0", "1" }, ranks);
        Assert.Equal(new[] { 1_500, 1_500 }, await Task.WhenAll(sleeping.Select(f => f.AsTask())));
        // Every call completes wherever it runs, both workers busy at once.
        var adds = Enumerable.Range(0, 200).Select(i => Library.AddAsync(i, 1, In(rt)).AsTask()).ToArray();
        Assert.Equal(Enumerable.Range(1, 200), await Task.WhenAll(adds));
        var remote = Library.SleepAsync(10, Whole(rt));
        var other = Library.SleepAsync(10, Whole(rt));
        await Task.WhenAll(remote.AsTask(), other.AsTask());
        Assert.Contains("1", new[] { await RanksOf(remote.JobId!.Value), await RanksOf(other.JobId!.Value) });
    }

    [SkippableFact]
    public async Task FluxCancelOfAWorkerOnARemoteRankFailsExactlyItsCallsAndQueuedCallsRunOnAReplacement()
    {
        FluxAvailability.SkipIfAbsent();
        int cores = Environment.ProcessorCount;
        await using var rt = await StartAsync(workers: 2, cpus: cores);
        var running = Enumerable.Range(0, 2 * cores).Select(_ => Library.SleepAsync(60_000, In(rt))).ToArray();
        await Eventually.True(() => running.All(f => f.State == FluxJobState.Run));
        var queued = Enumerable.Range(0, 3).Select(i => Library.AddAsync(i, 10, In(rt))).ToArray();
        FluxJobId? remote = null;
        foreach (var job in running.Select(f => f.JobId!.Value).Distinct())
            if (await RanksOf(job) == "1") remote = job;
        Assert.NotNull(remote);
        var onRemote = running.Where(f => f.JobId == remote).ToArray();
        var elsewhere = running.Where(f => f.JobId != remote).ToArray();
        Assert.Equal(cores, onRemote.Length);
        await FluxCli.RunAsync(fixture.Uri, "cancel", remote.Value.ToString());
        foreach (var call in onRemote)
        {
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await call);
            Assert.Equal(FluxJobFailureKind.WorkerLost, ex.Kind);
        }
        int[] results = await Task.WhenAll(queued.Select(f => f.AsTask()));
        Assert.Equal(new[] { 10, 11, 12 }, results);
        Assert.All(queued, f => Assert.NotEqual(remote, f.JobId));
        Assert.All(elsewhere, f => Assert.Equal(FluxJobState.Run, f.State));
        var worker = rt.Pools.Find("p")!.Workers.Select(w => w.Job.ToString()).ToArray();
        await rt.DisposeAsync();
        var active = await ActiveJobs();
        Assert.All(worker, w => Assert.DoesNotContain(w, active));
    }

    [SkippableFact]
    public async Task CancellingARunningPooledCallCompletesItAtOnceAndKeepsTheWorkerJob()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartAsync(workers: 1);
        var warm = Library.AddAsync(1, 2, In(rt));
        Assert.Equal(3, await warm);
        using var cts = new CancellationTokenSource();
        var sleeping = Library.SleepAsync(1_000, In(rt), cts.Token);
        await Eventually.True(() => sleeping.State == FluxJobState.Run);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sleeping);
        var next = Library.AddAsync(3, 4, In(rt));
        Assert.Equal(7, await next);
        Assert.Equal(warm.JobId, next.JobId); // the worker job served on
        Assert.Contains(next.JobId!.Value.ToString(), await ActiveJobs());
    }

    [SkippableFact]
    public async Task ThePoolGrowsShrinksToZeroWhenIdleAndGrowsAgainAsFluxJobs()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartAsync(workers: 2, idleTimeout: TimeSpan.FromMilliseconds(500));
        var pool = () => rt.Pools.Find("p")!;
        var calls = Enumerable.Range(0, 4).Select(_ => Library.HoldAsync(400, In(rt))).ToArray();
        await Eventually.True(() => pool().WorkerCount == 2);
        await Task.WhenAll(calls.Select(c => c.AsTask()));
        var first = calls.Select(c => c.JobId!.Value.ToString()).Distinct().ToArray();
        Assert.Equal(2, first.Length);
        await Eventually.True(() => pool().WorkerCount == 0);
        for (int i = 0; i < 300 && (await ActiveJobs()).Intersect(first).Any(); i++) await Task.Delay(100);
        Assert.Empty((await ActiveJobs()).Intersect(first)); // the idle workers' jobs ended
        var again = Library.AddAsync(1, 1, In(rt));
        Assert.Equal(2, await again);
        Assert.DoesNotContain(again.JobId!.Value.ToString(), first);
    }

    [SkippableFact]
    public async Task TheCallersTraceContinuesInsideFluxJobsAndPoolWorkers()
    {
        FluxAvailability.SkipIfAbsent();
        var stopped = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == FluxAppsTelemetry.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var logs = new CapturingLoggerFactory();
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux,
            FluxUri = fixture.Uri,
            WorkingDirectory = TestPaths.WorkRoot,
            LoggerFactory = logs,
            Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = 2, CpusPerWorker = 1 }],
        });
        Assert.Equal(fixture.Uri, Assert.Single(logs.Entries, e => e.Id.Name == "FluxInstanceConnected").Field("FluxUri"));
        using var caller = new System.Diagnostics.Activity("caller").Start();
        foreach (var options in new[] { new FluxCallOptions { Runtime = rt }, In(rt) })
        {
            var call = TelemetryApps.TraceSeenAsync(options);
            string[] seen = (await call).Split(' ');
            var activity = stopped.Single(a => (string?)a.GetTagItem("fluxapps.job.id") == call.JobId.ToString()
                && (string?)a.GetTagItem("fluxapps.app") == "TelemetryApps.TraceSeen");
            Assert.Equal("flux", activity.GetTagItem("fluxapps.backend"));
            Assert.Equal(caller.SpanId, activity.ParentSpanId);
            Assert.Equal(caller.TraceId.ToString(), seen[0]); // the job runs in the caller's trace
            Assert.Equal(activity.SpanId.ToString(), seen[1]); // under the call's activity
            Assert.Equal(seen[2], seen[3]); // and the app's own span is the job's child
            Assert.Contains(activity.Events, e => e.Name == "start");
        }
        var up = Assert.Single(logs.Entries, e => e.Id.Name == "PoolWorkerUp");
        Assert.Equal("p", up.Field("Pool"));
    }

    [SkippableFact]
    public async Task TheEventStreamFollowsFluxJobsAndACancelledCallsOutcomeIsItsLastEvent()
    {
        FluxAvailability.SkipIfAbsent();
        var rt = await StartAsync();
        var stream = rt.WatchEventsAsync();
        var own = new FluxCallOptions { Runtime = rt };
        var done = Library.AddAsync(1, 2, own);
        var cancelled = Library.SleepAsync(60_000, own);
        Assert.Equal(3, await done);
        await Wait.ForEvent(cancelled, "start");
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        // The rest of the job's eventlog arrives after the outcome (ForEvent would rethrow the cancellation).
        await Eventually.True(() => cancelled.Events.Any(e => e.Name == "clean"), why: () => "the cancelled job never logged clean: " + string.Join(", ", cancelled.Events.Select(e => e.Name)));
        await rt.DisposeAsync();

        var seen = new List<FluxCallEvent>();
        await foreach (var e in stream) seen.Add(e);
        var ok = seen.Where(e => e.Call == done).ToList();
        Assert.Equal(FluxCallEventKind.Submitted, ok[0].Kind);
        var names = ok.Where(e => e.Kind == FluxCallEventKind.JobEvent).Select(e => e.JobEvent!.Name).ToList();
        foreach (var (before, after) in new[] { ("submit", "alloc"), ("alloc", "start"), ("start", "finish"), ("finish", "clean") })
            Assert.True(names.IndexOf(before) >= 0 && names.IndexOf(before) < names.IndexOf(after), string.Join(",", names));
        Assert.Equal(FluxJobState.Run, ok.Single(e => e.JobEvent?.Name == "start").State);
        Assert.Equal((FluxCallEventKind.Completed, FluxCallOutcome.Succeeded), (ok[^1].Kind, ok[^1].Outcome));
        var stopped = seen.Where(e => e.Call == cancelled).ToList();
        Assert.Equal((FluxCallEventKind.Completed, FluxCallOutcome.Canceled), (stopped[^1].Kind, stopped[^1].Outcome));
        Assert.Single(stopped, e => e.Kind == FluxCallEventKind.Completed);
    }

    [SkippableFact]
    public async Task AWorkerWhoseClientWasKilledEndsItsJobByItself()
    {
        FluxAvailability.SkipIfAbsent();
        using var child = ChildClient.Start("pool", fixture.Uri, TestPaths.WorkRoot);
        string[] worker = (await ChildClient.WaitForLine(child, "worker ", TimeSpan.FromMinutes(2))).Split(' ');
        var job = FluxJobId.Parse(worker[1]);
        Assert.Contains(job.ToString(), await ActiveJobs());
        child.Kill(); // SIGKILL: the client disposes nothing and cancels no job
        await child.WaitForExitAsync();

        // The worker hears no more from its client (its heartbeat goes unanswered) and exits; Flux sees its job end.
        await Eventually.True(async () => !(await ActiveJobs()).Contains(job.ToString()), why: () => $"worker job {job} still active after its client was killed");
        Assert.Equal("CD", await FluxCli.StatusAsync(fixture.Uri, job)); // it exited, nobody had to cancel it
    }

    [SkippableFact]
    public async Task ADefaultPoolsWorkersAreSizedFromTheInstancesResourceSet()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, FluxUri = fixture.Uri, WorkingDirectory = TestPaths.WorkRoot });
        var expected = FluxApps.Backends.Flux.ResourceSet.Parse(await FluxCli.RunAsync(fixture.Uri, "kvs", "get", "resource.R"));
        Assert.NotNull(expected);
        Assert.Equal(expected, ((FluxApps.Backends.Flux.FluxJobBackend)rt.JobBackend).Connection.Resources);
        Assert.Equal(2, expected.Nodes); // the fixture's two brokers
        Assert.Equal(5, await Library.AddAsync(2, 3, new FluxCallOptions { Runtime = rt, Pool = "sized-from-R" }));
        var settings = rt.Pools.Find("sized-from-R")!.Settings;
        Assert.Equal((expected.Nodes, expected.CoresPerNode), (settings.MaxWorkers, settings.CpusPerWorker));
    }
}
