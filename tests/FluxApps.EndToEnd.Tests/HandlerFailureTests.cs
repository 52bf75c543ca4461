using System.Diagnostics.Metrics;
using FluxApps;
using FluxApps.TestApps;
using FluxApps.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// A user's <see cref="FluxFuture.JobEvent"/> handler that throws never breaks the runtime: the call still gets its
/// outcome, the cores come back, the pool worker keeps serving, and the throw is logged at Warning and counted.
/// </summary>
public sealed class HandlerFailureTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);
    private readonly CapturingLoggerFactory _logs = new();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _errorsByEvent = new();

    public HandlerFailureTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FluxAppsTelemetry.MeterName && instrument.Name == "fluxapps.handler.errors") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? name = null;
            foreach (var tag in tags) if (tag.Key == "fluxapps.event.name") name = tag.Value as string;
            lock (_errorsByEvent) _errorsByEvent[name ?? ""] = _errorsByEvent.GetValueOrDefault(name ?? "") + value;
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private long Errors(string eventName)
    {
        lock (_errorsByEvent) return _errorsByEvent.GetValueOrDefault(eventName);
    }

    private Task<FluxAppsRuntime> StartAsync(int cores, params FluxPoolOptions[] pools) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalCores = cores,
            Pools = pools,
            LoggerFactory = _logs,
        });

    private static void ThrowOn(FluxFuture future, params string[] names) =>
        future.JobEvent += (_, e) =>
        {
            if (names.Length == 0 || names.Contains(e.Name)) throw new InvalidOperationException($"handler fails on {e.Name}");
        };

    [Fact]
    public async Task AHandlerThatThrowsOnEveryEventOfAJobLeavesTheCallItsResult()
    {
        await using var rt = await StartAsync(2);
        var future = Library.AddAsync(20, 22, new FluxCallOptions { Runtime = rt });
        ThrowOn(future); // replayed events throw at once; finish throws on the backend's thread
        Assert.Equal(42, await future.AsTask().WaitAsync(s_bound));
        Assert.True(Errors("finish") >= 1);
        var warning = Assert.Single(_logs.Entries, e => e.Id.Name == "JobEventHandlerFailed" && Equals(e.Field("EventName"), "finish"));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.IsType<InvalidOperationException>(warning.Exception);
        Assert.Equal(future.JobId.ToString(), warning.Field("JobId"));
    }

    [Fact]
    public async Task AHandlerThatThrowsOnAllocStillRunsTheJobAndReleasesItsCores()
    {
        await using var rt = await StartAsync(1);
        var holder = Library.HoldAsync(500, new FluxCallOptions { Runtime = rt });
        var queued = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt });
        Assert.Equal(FluxJobState.Sched, queued.State); // one core, held by the first call: alloc comes later, on the backend's thread
        ThrowOn(queued, "alloc");
        await holder.AsTask().WaitAsync(s_bound);
        Assert.Equal(3, await queued.AsTask().WaitAsync(s_bound));
        Assert.Equal(1, Errors("alloc"));
        // Its core came back: a job needing the whole machine runs.
        Assert.Equal(7, await Library.AddAsync(3, 4, new FluxCallOptions { Runtime = rt }).AsTask().WaitAsync(s_bound));
    }

    [Fact]
    public async Task AHandlerThatThrowsInAPoolLeavesTheCallItsResultAndTheWorkerServing()
    {
        await using var rt = await StartAsync(2, new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        var options = new FluxCallOptions { Runtime = rt, Pool = "p" };
        var first = Library.HoldAsync(500, options);
        var queued = Library.AddAsync(5, 6, options);
        ThrowOn(queued, "start", "finish");
        await first.AsTask().WaitAsync(s_bound);
        Assert.Equal(11, await queued.AsTask().WaitAsync(s_bound));
        Assert.True(Errors("finish") >= 1);
        var next = Library.AddAsync(1, 1, options);
        Assert.Equal(2, await next.AsTask().WaitAsync(s_bound));
        Assert.Equal(queued.JobId, next.JobId); // the same worker: its reader survived
    }

    [Fact]
    public async Task AHandlerThatThrowsOnARetryStillLetsTheNextAttemptRun()
    {
        await using var rt = await StartAsync(2);
        string counter = Path.Combine(TestPaths.NewTempDirectory(), "runs");
        var future = RetryApps.FailTimesAsync(counter, 1, "exit", new FluxCallOptions { Runtime = rt });
        ThrowOn(future, "retry");
        Assert.Equal(2, await future.AsTask().WaitAsync(s_bound));
        Assert.Equal(2, future.Attempts);
        Assert.Equal(1, Errors("retry"));
        Directory.Delete(Path.GetDirectoryName(counter)!, true);
    }
}
