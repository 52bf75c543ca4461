using System;

namespace FluxApps;

/// <summary>The states of a Flux job (RFC 21), which both backends report.</summary>
public enum FluxJobState
{
    /// <summary>Not yet accepted by the backend.</summary>
    New = 0,
    /// <summary>Waiting for dependencies.</summary>
    Depend,
    /// <summary>Waiting for a priority to be assigned.</summary>
    Priority,
    /// <summary>Waiting for resources.</summary>
    Sched,
    /// <summary>Resources allocated, tasks running.</summary>
    Run,
    /// <summary>Tasks ended; resources being released.</summary>
    Cleanup,
    /// <summary>The job is over; the future has (or is about to have) its outcome.</summary>
    Inactive,
}

/// <summary>One event of a job's life, as in Flux's job eventlog (RFC 18/21): submit, alloc, start, finish, exception, clean, ...</summary>
/// <param name="Name">Event name, e.g. <c>"submit"</c>, <c>"start"</c>, <c>"finish"</c>, <c>"exception"</c>.</param>
/// <param name="Timestamp">When it happened: Flux's own event time on the Flux backend, the local backend's clock otherwise.</param>
/// <param name="Context">Short text of the event's context (e.g. <c>"status=0"</c>), or empty.</param>
public sealed record FluxJobEvent(string Name, DateTimeOffset Timestamp, string Context);
