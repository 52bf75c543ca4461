using System;

namespace FluxApps;

/// <summary>What a <see cref="FluxCallEvent"/> reports.</summary>
public enum FluxCallEventKind
{
    /// <summary>The runtime took the call (before it has a job id).</summary>
    Submitted = 0,
    /// <summary>An event of the call's job: <see cref="FluxCallEvent.JobEvent"/> (submit, alloc, start, finish, exception, retry, ...).</summary>
    JobEvent,
    /// <summary>The call has its outcome: <see cref="FluxCallEvent.Outcome"/>; the call's last event.</summary>
    Completed,
}

/// <summary>How a call ended.</summary>
public enum FluxCallOutcome
{
    /// <summary>The app returned; the future has its result.</summary>
    Succeeded = 0,
    /// <summary>The app threw or the job failed; the future has the exception (<see cref="FluxCallEvent.Exception"/>).</summary>
    Failed,
    /// <summary>The call was cancelled.</summary>
    Canceled,
}

/// <summary>
/// One step of one call, as <see cref="FluxAppsRuntime.WatchEventsAsync"/> reports it: the call was submitted, its job
/// had an event, or it completed.
/// </summary>
public sealed class FluxCallEvent
{
    internal FluxCallEvent(FluxCallEventKind kind, FluxFuture call, FluxJobState state, DateTimeOffset timestamp,
        FluxJobEvent? jobEvent = null, FluxCallOutcome? outcome = null, Exception? exception = null)
    {
        Kind = kind;
        Call = call;
        JobId = call.JobId;
        State = state;
        Timestamp = timestamp;
        JobEvent = jobEvent;
        Outcome = outcome;
        Exception = exception;
    }

    /// <summary>What happened.</summary>
    public FluxCallEventKind Kind { get; }

    /// <summary>The call (its future: app name, job id, events so far, outcome once completed).</summary>
    public FluxFuture Call { get; }

    /// <summary>The app's name, e.g. <c>Physics.Simulate</c>.</summary>
    public string AppName => Call.AppName;

    /// <summary>The job id of the call's current attempt when this happened, or null (not yet assigned, or served from the checkpoint).</summary>
    public FluxJobId? JobId { get; }

    /// <summary>The call's state right after this event.</summary>
    public FluxJobState State { get; }

    /// <summary>When it happened (for job events, the backend's own time).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>For <see cref="FluxCallEventKind.JobEvent"/>, the job's event; otherwise null.</summary>
    public FluxJobEvent? JobEvent { get; }

    /// <summary>For <see cref="FluxCallEventKind.Completed"/>, how the call ended; otherwise null.</summary>
    public FluxCallOutcome? Outcome { get; }

    /// <summary>For a call that failed or was cancelled, the exception its future completes with.</summary>
    public Exception? Exception { get; }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FluxCallEventKind.JobEvent => $"{AppName} {JobId?.ToString() ?? "-"} {JobEvent!.Name} {JobEvent.Context}".TrimEnd(),
        FluxCallEventKind.Completed => $"{AppName} {JobId?.ToString() ?? "-"} completed: {Outcome}",
        _ => $"{AppName} submitted",
    };
}
