using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FluxApps;
using FluxApps.TestApps;
using FluxApps.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace FluxApps.EndToEnd.Tests;

[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>
/// Traces, metrics, logs and the event stream of real calls on the local backend, in jobs of their own and in a pool.
/// Alone in their collection: activity and meter listeners are process-wide.
/// </summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    private static readonly ActivitySource s_testSource = new("FluxApps.Tests.Caller");

    private static Task<FluxAppsRuntime> StartAsync(ILoggerFactory? loggerFactory = null) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalCores = 2,
            LoggerFactory = loggerFactory,
            Pools = [new FluxPoolOptions { Name = "t", MaxWorkers = 1, CpusPerWorker = 2 }],
        });

    private static FluxCallOptions In(FluxAppsRuntime rt, bool pooled) => new() { Runtime = rt, Pool = pooled ? "t" : "" };

    /// <summary>Records every activity of FluxApps and of the test's caller source while it lives.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly ActivityListener _listener;

        public Recorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is FluxAppsTelemetry.ActivitySourceName or "FluxApps.Tests.Caller",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity => Stopped.Add(activity),
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public ConcurrentBag<Activity> Stopped { get; } = new();

        public Activity CallOf(FluxFuture future) =>
            Stopped.Single(a => a.Source.Name == FluxAppsTelemetry.ActivitySourceName && Equals(a.GetTagItem("fluxapps.job.id"), future.JobId?.ToString())
                && (string?)a.GetTagItem("fluxapps.app") == future.AppName);

        public void Dispose() => _listener.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EachCallIsAnActivityThatTheAppContinuesInsideItsJob(bool pooled)
    {
        using var recorder = new Recorder();
        await using var rt = await StartAsync();
        using var caller = s_testSource.StartActivity("caller")!;
        caller.TraceStateString = "vendor=abc";
        var call = TelemetryApps.TraceSeenAsync(In(rt, pooled));
        Assert.Same(caller, Activity.Current); // the call's activity does not become the caller's current one
        string[] seen = (await call).Split(' ');

        var activity = recorder.CallOf(call);
        Assert.Equal("TelemetryApps.TraceSeen", activity.DisplayName);
        Assert.Equal(ActivityKind.Client, activity.Kind);
        Assert.Equal(caller.SpanId, activity.ParentSpanId);
        Assert.Equal(caller.TraceId, activity.TraceId);
        Assert.Equal(ActivityStatusCode.Ok, activity.Status);
        Assert.Equal("succeeded", activity.GetTagItem("fluxapps.outcome"));
        Assert.Equal("local", activity.GetTagItem("fluxapps.backend"));
        Assert.Equal(1, activity.GetTagItem("fluxapps.cpus"));
        Assert.Equal(1, activity.GetTagItem("fluxapps.attempts"));
        Assert.IsType<double>(activity.GetTagItem("fluxapps.queue_wait"));
        Assert.IsType<double>(activity.GetTagItem("fluxapps.run_time"));
        Assert.Equal(pooled ? "t" : null, activity.GetTagItem("fluxapps.pool"));
        var events = activity.Events.Select(e => e.Name).ToList();
        Assert.True(events.IndexOf("submit") >= 0 && events.IndexOf("submit") < events.IndexOf("start") && events.IndexOf("start") < events.IndexOf("finish"),
            string.Join(",", events));

        // Inside the job: the same trace, the call's activity as parent, and the app's own span a child of the worker's.
        Assert.Equal(caller.TraceId.ToString(), seen[0]);
        Assert.Equal(activity.SpanId.ToString(), seen[1]);
        Assert.Equal(seen[2], seen[3]);
        Assert.Equal("vendor=abc", seen[4]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WithoutListenersTheJobContinuesTheCallersTraceOrHasNone(bool pooled)
    {
        await using var rt = await StartAsync();
        Assert.Null(Activity.Current);
        Assert.Equal("none", await TelemetryApps.TraceSeenAsync(In(rt, pooled)));

        // A caller with a trace of its own (made without any listener) still gets it continued in the job.
        using var caller = new Activity("caller-without-listener").Start();
        var call = TelemetryApps.TraceSeenAsync(In(rt, pooled));
        string[] seen = (await call).Split(' ');
        Assert.Equal(caller.TraceId.ToString(), seen[0]);
        Assert.Equal(caller.SpanId.ToString(), seen[1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFailedCallsActivityHasAnErrorStatusAndType(bool pooled)
    {
        using var recorder = new Recorder();
        await using var rt = await StartAsync();
        var call = TelemetryApps.ThrowAsync("bad input 42", In(rt, pooled));
        await Assert.ThrowsAsync<FluxAppException>(async () => await call);
        var activity = recorder.CallOf(call);
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Contains("bad input 42", activity.StatusDescription);
        Assert.Equal("AppException", activity.GetTagItem("error.type"));
        Assert.Equal("failed", activity.GetTagItem("fluxapps.outcome"));
    }

    /// <summary>Collects FluxApps' measurements of the test apps.</summary>
    private sealed class MetricsRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();

        public MetricsRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == FluxAppsTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
            _listener.Start();
        }

        public ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags) map[tag.Key] = tag.Value;
            Measurements.Enqueue((instrument.Name, value, map));
        }

        public void Observe() => _listener.RecordObservableInstruments();

        public double Sum(string name, string app, string? tag = null, object? value = null) =>
            Measurements.Where(m => m.Name == name && Equals(m.Tags.GetValueOrDefault("fluxapps.app"), app)
                && (tag is null || Equals(m.Tags.GetValueOrDefault(tag), value))).Sum(m => m.Value);

        public int Count(string name, string app) =>
            Measurements.Count(m => m.Name == name && Equals(m.Tags.GetValueOrDefault("fluxapps.app"), app));

        public void Dispose() => _listener.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MetricsCountCallsByOutcomeAndTimeTheirQueueWaitAndRun(bool pooled)
    {
        using var metrics = new MetricsRecorder();
        await using var rt = await StartAsync();
        var ok = Enumerable.Range(0, 3).Select(i => TelemetryApps.SleepThenAsync(50, i, In(rt, pooled))).ToList();
        var bad = TelemetryApps.ThrowAsync("no", In(rt, pooled));
        var cancelled = TelemetryApps.SleepThenAsync(30_000, 0, In(rt, pooled));
        await Task.WhenAll(ok.Select(f => f.AsTask()));
        await Assert.ThrowsAsync<FluxAppException>(async () => await bad);
        metrics.Observe();
        Assert.Contains(metrics.Measurements, m => m.Name == "fluxapps.calls.pending" && m.Value >= 1 && Equals(m.Tags["fluxapps.backend"], "local"));
        if (pooled)
        {
            Assert.Contains(metrics.Measurements, m => m.Name == "fluxapps.pool.workers" && Equals(m.Tags["fluxapps.pool"], "t")
                && Equals(m.Tags["fluxapps.worker.state"], "busy") && m.Value == 1);
        }
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);

        Assert.Equal(4, metrics.Sum("fluxapps.calls.submitted", "TelemetryApps.SleepThen"));
        Assert.Equal(1, metrics.Sum("fluxapps.calls.submitted", "TelemetryApps.Throw"));
        Assert.Equal(3, metrics.Sum("fluxapps.calls.completed", "TelemetryApps.SleepThen", "fluxapps.outcome", "succeeded"));
        Assert.Equal(1, metrics.Sum("fluxapps.calls.completed", "TelemetryApps.SleepThen", "fluxapps.outcome", "canceled"));
        Assert.Equal(1, metrics.Sum("fluxapps.calls.completed", "TelemetryApps.Throw", "fluxapps.outcome", "failed"));
        Assert.Equal(1, metrics.Sum("fluxapps.calls.failed", "TelemetryApps.Throw", "error.type", "AppException"));
        Assert.Equal(0, metrics.Sum("fluxapps.calls.failed", "TelemetryApps.SleepThen"));
        // Each finished attempt has a queue wait and a run time; the sleeping ones ran at least their 50 ms.
        Assert.True(metrics.Count("fluxapps.call.queue_wait", "TelemetryApps.SleepThen") >= 3);
        var runs = metrics.Measurements.Where(m => m.Name == "fluxapps.call.run_time" && Equals(m.Tags["fluxapps.app"], "TelemetryApps.SleepThen")).ToList();
        Assert.InRange(runs.Count, 3, 4); // the cancelled call may have started too
        Assert.True(runs.Count(m => m.Value >= 0.045) >= 3, string.Join(", ", runs.Select(m => m.Value)));
    }

    [Fact]
    public async Task AWorkerLoadsTheDiagnosticsAssemblyOnlyWhenItsCallerHadATrace()
    {
        // Each assembly a worker loads costs its start-up about a millisecond: without a trace there is no activity to make.
        await using var rt = await StartAsync();
        Assert.Null(Activity.Current);
        Assert.False(await TelemetryApps.DiagnosticSourceLoadedAsync(In(rt, false)));
        using var caller = new Activity("caller").Start();
        Assert.True(await TelemetryApps.DiagnosticSourceLoadedAsync(In(rt, false)));
    }

    [Fact]
    public async Task NothingIsRecordedWhileNobodyListens()
    {
        await using var rt = await StartAsync();
        var call = TelemetryApps.SleepThenAsync(0, 7, In(rt, false));
        Assert.Null(call.Activity);
        Assert.Equal(7, await call);
        using var metrics = new MetricsRecorder();
        Assert.Equal(8, await TelemetryApps.SleepThenAsync(0, 8, In(rt, false)));
        Assert.Equal(1, metrics.Sum("fluxapps.calls.submitted", "TelemetryApps.SleepThen")); // only the call made while listening
    }

    [Fact]
    public async Task LogsTellTheRuntimesLifeAtInformationAndEachCallAtDebugWithStructuredFields()
    {
        var logs = new CapturingLoggerFactory();
        FluxFuture<int> ok, pooled;
        FluxFuture<int> failed;
        await using (var rt = await StartAsync(logs))
        {
            ok = TelemetryApps.SleepThenAsync(0, 1, In(rt, false));
            pooled = TelemetryApps.SleepThenAsync(0, 2, In(rt, true));
            failed = TelemetryApps.ThrowAsync("went wrong", In(rt, false));
            await ok;
            await pooled;
            await Assert.ThrowsAsync<FluxAppException>(async () => await failed);
        }
        var entries = logs.Entries.ToList();
        Assert.All(entries, e => Assert.Equal("FluxApps", e.Category));
        var started = Assert.Single(entries, e => e.Id.Name == "RuntimeStarted");
        Assert.Equal(LogLevel.Information, started.Level);
        Assert.Equal(FluxBackend.Local, started.Field("Backend"));
        Assert.Single(entries, e => e.Id.Name == "RuntimeStopped" && e.Level == LogLevel.Information);
        var up = Assert.Single(entries, e => e.Id.Name == "PoolWorkerUp");
        Assert.Equal(LogLevel.Information, up.Level);
        Assert.Equal("t", up.Field("Pool"));
        Assert.Contains(entries, e => e.Id.Name == "PoolWorkerDown" && Equals(e.Field("Pool"), "t"));

        // Per call: Debug for the steps, with app and job id as fields; Warning for the failure, with the exception.
        var succeeded = Assert.Single(entries, e => e.Id.Name == "CallSucceeded" && Equals(e.Field("JobId"), ok.JobId.ToString()));
        Assert.Equal(LogLevel.Debug, succeeded.Level);
        Assert.Equal("TelemetryApps.SleepThen", succeeded.Field("App"));
        Assert.Contains(entries, e => e.Id.Name == "CallStarted" && e.Level == LogLevel.Debug && Equals(e.Field("JobId"), pooled.JobId.ToString()));
        var failure = Assert.Single(entries, e => e.Id.Name == "CallFailed");
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.Equal("AppException", failure.Field("FailureKind"));
        Assert.Equal(failed.JobId.ToString(), failure.Field("JobId"));
        Assert.IsType<FluxAppException>(failure.Exception);
        Assert.Contains("went wrong", failure.Message);

        // Nothing per call at Information: the Information entries are the runtime's and the pool worker's only.
        var information = entries.Where(e => e.Level == LogLevel.Information).Select(e => e.Id.Name).ToHashSet();
        Assert.Subset(new HashSet<string?> { "RuntimeStarted", "RuntimeStopping", "RuntimeStopped", "PoolWorkerUp", "PoolWorkerDown" }, information!);
    }

    [Fact]
    public async Task TheEventStreamReportsEachCallFromSubmissionToOutcomeAndEndsWithTheRuntime()
    {
        var rt = await StartAsync();
        var stream = rt.WatchEventsAsync(); // subscribed from here: every call below is seen
        var calls = new List<FluxFuture>
        {
            TelemetryApps.SleepThenAsync(10, 1, In(rt, false)),
            TelemetryApps.SleepThenAsync(10, 2, In(rt, true)),
            TelemetryApps.ThrowAsync("x", In(rt, false)),
        };
        var seen = new List<FluxCallEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in stream) seen.Add(e);
        });
        await Task.WhenAll(calls.Select(c => c.AsTask().ContinueWith(_ => { })));
        await rt.DisposeAsync();
        await reading.WaitAsync(TimeSpan.FromSeconds(30)); // ends with the runtime

        Assert.Throws<InvalidOperationException>(() => stream.GetAsyncEnumerator()); // one reader per subscription
        foreach (var call in calls)
        {
            var mine = seen.Where(e => e.Call == call).ToList();
            Assert.Equal(FluxCallEventKind.Submitted, mine[0].Kind);
            Assert.Equal(FluxCallEventKind.Completed, mine[^1].Kind);
            Assert.Single(mine, e => e.Kind == FluxCallEventKind.Completed);
            Assert.Contains(mine, e => e.JobEvent?.Name == "start" && e.State == FluxJobState.Run);
            // A pooled call has its worker's job id from its start on; a job of its own from its submission.
            Assert.Contains(mine, e => e.JobEvent?.Name == "submit" && e.State == FluxJobState.Sched && (e.JobId == call.JobId || e.JobId is null));
            Assert.Equal(call.JobId, mine.Single(e => e.JobEvent?.Name == "start").JobId);
            var outcome = mine[^1];
            Assert.Equal(call.AppName == "TelemetryApps.Throw" ? FluxCallOutcome.Failed : FluxCallOutcome.Succeeded, outcome.Outcome);
            Assert.Equal(FluxJobState.Inactive, outcome.State);
            if (outcome.Outcome == FluxCallOutcome.Failed) Assert.IsType<FluxAppException>(outcome.Exception);
        }
        Assert.Equal(3, seen.Count(e => e.Kind == FluxCallEventKind.Completed));
    }

    [Fact]
    public async Task EnumerationStopsWhenItsTokenIsCancelledAndAfterDisposalTheStreamIsEmpty()
    {
        var rt = await StartAsync();
        using var stop = new CancellationTokenSource();
        int count = 0;
        var stream = rt.WatchEventsAsync(stop.Token);
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in stream) count++;
        });
        await TelemetryApps.SleepThenAsync(0, 1, In(rt, false));
        stop.Cancel();
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(count >= 3, $"{count} events"); // submitted, its job's events, completed
        await rt.DisposeAsync();
        var after = new List<FluxCallEvent>();
        await foreach (var e in rt.WatchEventsAsync()) after.Add(e);
        Assert.Empty(after);
    }

    [Fact]
    public async Task WhenIdleCompletesOnceEveryCallHasItsOutcome()
    {
        await using var rt = await StartAsync();
        Assert.True(rt.WhenIdleAsync(CancellationToken.None).IsCompleted);
        var own = TelemetryApps.SleepThenAsync(400, 1, In(rt, false));
        var pooled = TelemetryApps.SleepThenAsync(400, 2, In(rt, true));
        var idle = rt.WhenIdleAsync(CancellationToken.None);
        Assert.False(idle.IsCompleted);
        using (var shortWait = new CancellationTokenSource(50))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rt.WhenIdleAsync(shortWait.Token)); // ends the wait, not the calls
        await idle.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(own.IsCompleted && pooled.IsCompleted);
        Assert.Equal(3, await own + await pooled);
        Assert.True(rt.WhenIdleAsync(CancellationToken.None).IsCompleted);
    }
}
