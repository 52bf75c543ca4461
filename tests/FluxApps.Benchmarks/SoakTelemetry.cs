using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FluxApps.Benchmarks;

/// <summary>
/// The soak's telemetry check (<see cref="SoakOptions.Telemetry"/>): while the calls run, reads the runtime's event
/// stream and listens to FluxApps' activities and metrics; afterwards, checks that every call told its story once and
/// whole: one <c>Submitted</c> first and one <c>Completed</c> last with the future's outcome, one activity started and
/// stopped, and as many calls counted completed as submitted.
/// </summary>
internal sealed class SoakTelemetry : IDisposable
{
    private readonly ConcurrentDictionary<FluxFuture, List<FluxCallEvent>> _events = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters = new();
    private readonly Task _reading;
    private long _started, _stopped, _submitted, _completed;

    private SoakTelemetry(FluxAppsRuntime runtime)
    {
        var stream = runtime.WatchEventsAsync();
        _reading = Task.Run(async () =>
        {
            await foreach (var e in stream)
            {
                var list = _events.GetOrAdd(e.Call, _ => new List<FluxCallEvent>());
                list.Add(e); // one reader: no lock needed
            }
        });
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FluxAppsTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            // The soak's own apps only: other runtimes of the process (tests running beside it) are not counted.
            ActivityStarted = activity => { if (IsSoakApp(activity.DisplayName)) Interlocked.Increment(ref _started); },
            ActivityStopped = activity => { if (IsSoakApp(activity.DisplayName)) Interlocked.Increment(ref _stopped); },
        };
        ActivitySource.AddActivityListener(_activities);
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FluxAppsTelemetry.MeterName && instrument.Name is "fluxapps.calls.submitted" or "fluxapps.calls.completed")
                listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "fluxapps.app" && tag.Value is string app && IsSoakApp(app))
                    Interlocked.Add(ref instrument.Name == "fluxapps.calls.submitted" ? ref _submitted : ref _completed, value);
            }
        });
        _meters.Start();
    }

    private static bool IsSoakApp(string app) => app.StartsWith(nameof(SoakApps) + ".", StringComparison.Ordinal);

    /// <summary>Starts listening to <paramref name="runtime"/>, before its first call.</summary>
    public static SoakTelemetry Start(FluxAppsRuntime runtime) => new(runtime);

    /// <summary>After the runtime is disposed (which ends its event stream): what does not add up, one line each.</summary>
    public async Task<List<string>> CheckAsync(IEnumerable<FluxFuture> futures)
    {
        var problems = new List<string>();
        if (await Task.WhenAny(_reading, Task.Delay(TimeSpan.FromSeconds(30))) != _reading)
            problems.Add("the event stream did not end with the runtime");
        foreach (var future in futures)
        {
            bool submitted = _events.TryGetValue(future, out var events);
            if (!submitted)
            {
                if (future.Attempts > 0) problems.Add($"{future}: ran {future.Attempts} attempt(s) but the event stream never saw it");
                continue;
            }
            var outcome = future.AsTask().Status switch
            {
                TaskStatus.RanToCompletion => FluxCallOutcome.Succeeded,
                TaskStatus.Canceled => FluxCallOutcome.Canceled,
                TaskStatus.Faulted => FluxCallOutcome.Failed,
                var status => throw new InvalidOperationException($"{future} is still {status}"),
            };
            if (events![0].Kind != FluxCallEventKind.Submitted) problems.Add($"{future}: first event {events[0]}");
            if (events.Count(e => e.Kind == FluxCallEventKind.Submitted) != 1) problems.Add($"{future}: submitted {events.Count(e => e.Kind == FluxCallEventKind.Submitted)} times");
            if (events.Count(e => e.Kind == FluxCallEventKind.Completed) != 1) problems.Add($"{future}: completed {events.Count(e => e.Kind == FluxCallEventKind.Completed)} times");
            else if (events[^1].Kind != FluxCallEventKind.Completed) problems.Add($"{future}: an event after its outcome: {events[^1]}");
            else if (events[^1].Outcome != outcome) problems.Add($"{future}: stream says {events[^1].Outcome}, the future {outcome}");
        }
        if (_started != _stopped) problems.Add($"{_started} activities started, {_stopped} stopped");
        if (_started != _events.Count) problems.Add($"{_started} activities for {_events.Count} calls submitted");
        if (_submitted != _events.Count || _completed != _events.Count)
            problems.Add($"metrics: {_submitted} submitted and {_completed} completed for {_events.Count} calls");
        return problems;
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }
}
