using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using FluxApps;

/// <summary>Where a call stands, as the progress view counts it.</summary>
public enum CallPhase
{
    /// <summary>Submitted, waiting for resources (the job states New, Depend, Priority and Sched).</summary>
    Queued = 0,
    /// <summary>Has its resources: running, or ending (Run, Cleanup, Inactive before the outcome is known).</summary>
    Running,
    /// <summary>The app returned.</summary>
    Succeeded,
    /// <summary>The app threw, or its job failed.</summary>
    Failed,
    /// <summary>The call was cancelled.</summary>
    Canceled,
}

/// <summary>What <see cref="CallProgress"/> had counted at one moment.</summary>
/// <param name="Total">The calls expected.</param>
/// <param name="Queued">Calls seen and waiting for resources.</param>
/// <param name="Running">Calls seen running.</param>
/// <param name="Succeeded">Calls that returned.</param>
/// <param name="Failed">Calls that failed.</param>
/// <param name="Canceled">Calls that were cancelled.</param>
/// <param name="Elapsed">From the first event to this moment, or to the last completion once every call has completed.</param>
/// <param name="FirstFailure">The exception message of the first call that failed, or null.</param>
public sealed record CallProgressSnapshot(int Total, int Queued, int Running, int Succeeded, int Failed, int Canceled, TimeSpan Elapsed,
    string? FirstFailure)
{
    /// <summary>Calls with an outcome.</summary>
    public int Completed => Succeeded + Failed + Canceled;

    /// <summary>Expected calls not seen yet (not yet submitted, or submitted before the events were watched).</summary>
    public int Unseen => Math.Max(0, Total - Queued - Running - Completed);

    /// <summary>True once every expected call has its outcome.</summary>
    public bool IsComplete => Completed >= Total;

    /// <summary>Calls completed per second over <see cref="Elapsed"/> (0 before the first completion).</summary>
    public double Rate => Completed == 0 || Elapsed <= TimeSpan.Zero ? 0 : Completed / Elapsed.TotalSeconds;

    /// <summary>At the current <see cref="Rate"/>, the time the rest will take; null when it cannot be told yet or nothing is left.</summary>
    public TimeSpan? Remaining => IsComplete || Rate <= 0 ? null : TimeSpan.FromSeconds((Total - Completed) / Rate);
}

/// <summary>
/// Counts calls by <see cref="CallPhase"/> from a runtime's event stream (<see cref="FluxAppsRuntime.WatchEventsAsync"/>),
/// with the rate of completions and the first failure. Bookkeeping only: <see cref="ProgressView"/> draws it. One
/// thread may feed it while others take snapshots.
/// </summary>
public sealed class CallProgress
{
    private readonly Lock _lock = new();
    // Keyed by the call itself (its future): a call has no job id before its job is submitted.
    private readonly Dictionary<object, CallPhase> _phases = new(ReferenceEqualityComparer.Instance);
    private readonly int[] _counts = new int[Enum.GetValues<CallPhase>().Length];
    private DateTimeOffset? _firstEvent;
    private DateTimeOffset _lastCompletion;
    private string? _firstFailure;

    /// <summary>Counts <paramref name="total"/> calls: the calls made after the events began to be watched.</summary>
    public CallProgress(int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        Total = total;
    }

    /// <summary>The calls expected.</summary>
    public int Total { get; }

    /// <summary>Counts one event.</summary>
    public void Observe(FluxCallEvent callEvent)
    {
        ArgumentNullException.ThrowIfNull(callEvent);
        Record(callEvent.Call, callEvent.Kind, callEvent.State, callEvent.Outcome, callEvent.Exception, callEvent.Timestamp);
    }

    /// <summary>
    /// Counts <paramref name="events"/> until every expected call has completed (then stops reading, which ends the
    /// subscription), the stream ends, or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task ObserveAsync(IAsyncEnumerable<FluxCallEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (IsComplete) return;
        await foreach (var callEvent in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Observe(callEvent);
            if (IsComplete) return;
        }
    }

    /// <summary>True once every expected call has its outcome.</summary>
    public bool IsComplete
    {
        get
        {
            lock (_lock) return CompletedLocked >= Total;
        }
    }

    /// <summary>The counts now; <paramref name="now"/> ends the elapsed time while calls are still pending.</summary>
    public CallProgressSnapshot Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            var end = CompletedLocked >= Total && CompletedLocked > 0 ? _lastCompletion : now;
            var elapsed = _firstEvent is { } first && end > first ? end - first : TimeSpan.Zero;
            return new CallProgressSnapshot(Total, _counts[(int)CallPhase.Queued], _counts[(int)CallPhase.Running],
                _counts[(int)CallPhase.Succeeded], _counts[(int)CallPhase.Failed], _counts[(int)CallPhase.Canceled], elapsed, _firstFailure);
        }
    }

    /// <summary>Counts one step of <paramref name="call"/> (what <see cref="Observe"/> reads from a <see cref="FluxCallEvent"/>).</summary>
    internal void Record(object call, FluxCallEventKind kind, FluxJobState state, FluxCallOutcome? outcome, Exception? exception,
        DateTimeOffset timestamp)
    {
        var phase = kind == FluxCallEventKind.Completed ? PhaseOf(outcome) : PhaseOf(state);
        lock (_lock)
        {
            _firstEvent ??= timestamp;
            if (_phases.TryGetValue(call, out var before))
            {
                // An outcome is final: nothing after it changes the counts.
                if (before is CallPhase.Succeeded or CallPhase.Failed or CallPhase.Canceled) return;
                _counts[(int)before]--;
            }
            _phases[call] = phase;
            _counts[(int)phase]++;
            if (kind != FluxCallEventKind.Completed) return;
            if (timestamp > _lastCompletion) _lastCompletion = timestamp;
            if (phase == CallPhase.Failed) _firstFailure ??= FirstLine(exception?.Message) ?? "failed";
        }
    }

    private int CompletedLocked => _counts[(int)CallPhase.Succeeded] + _counts[(int)CallPhase.Failed] + _counts[(int)CallPhase.Canceled];

    private static CallPhase PhaseOf(FluxJobState state) => state switch
    {
        FluxJobState.New or FluxJobState.Depend or FluxJobState.Priority or FluxJobState.Sched => CallPhase.Queued,
        _ => CallPhase.Running,
    };

    private static CallPhase PhaseOf(FluxCallOutcome? outcome) => outcome switch
    {
        FluxCallOutcome.Succeeded => CallPhase.Succeeded,
        FluxCallOutcome.Canceled => CallPhase.Canceled,
        _ => CallPhase.Failed,
    };

    private static string? FirstLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        int end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).Trim();
    }
}
