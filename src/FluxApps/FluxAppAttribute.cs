using System;

namespace FluxApps;

/// <summary>
/// Marks a static method of a <c>partial</c> type as a FluxApp: the source generator adds an
/// <c>XxxAsync</c> stub that runs the method as a job with the resources declared here.
/// </summary>
/// <remarks>
/// Per-call overrides of every property are available through <see cref="FluxCallOptions"/>.
/// Invalid values are compile errors (FLUX003, FLUX004, FLUX008, FLUX010, FLUX011).
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class FluxAppAttribute : Attribute
{
    /// <summary>Cores per rank (at least 1). Default 1.</summary>
    public int Cpus { get; set; } = 1;

    /// <summary>GPUs per rank (0 or more). Default 0.</summary>
    public int Gpus { get; set; }

    /// <summary>Number of tasks (MPI ranks) the job runs; rank 0's return value is the result. Default 1.</summary>
    public int MpiRanks { get; set; } = 1;

    /// <summary>Number of nodes to spread the ranks over; 0 lets the scheduler choose. Default 0.</summary>
    public int Nodes { get; set; }

    /// <summary>Allocate whole nodes (requires <see cref="Nodes"/>). Default false.</summary>
    public bool Exclusive { get; set; }

    /// <summary>Time limit as a Flux Standard Duration (RFC 23), e.g. <c>"90s"</c>, <c>"10m"</c>, <c>"2h"</c>; null for none.</summary>
    public string? TimeLimit { get; set; }

    /// <summary>Flux queue to submit to; null for the instance's default queue.</summary>
    public string? Queue { get; set; }

    /// <summary>Job urgency, 0 (hold) to 31 (expedite). Default 16.</summary>
    public int Urgency { get; set; } = 16;

    /// <summary>Job name shown by the scheduler; defaults to the method's name.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// How many times a call whose job ended without a result for a system reason (killed by a
    /// signal, worker exited without a result, node or backend lost) is resubmitted, as a new job,
    /// after a short growing delay (100 ms, 200 ms, 400 ms, ... at most 2 s). Rejections, time
    /// limits, cancellations, unreadable results and a command app's exit code are never retried.
    /// 0 or more (FLUX003). Default 0. Per call: <see cref="FluxCallOptions.Retries"/>.
    /// </summary>
    public int Retries { get; set; }

    /// <summary>
    /// Also retry (up to <see cref="Retries"/> times) when the app method threw (<see cref="FluxAppException"/>),
    /// for apps whose exceptions can be transient. Default false: an exception is the app's answer.
    /// </summary>
    public bool RetryOnAppException { get; set; }

    /// <summary>
    /// Store each successful result in the checkpoint directory (<see cref="FluxAppsOptions.CheckpointDirectory"/>)
    /// and serve later calls with the same arguments from it, in this process or a later one, without
    /// running a job. The key is the app, a hash of the method's code and of its parameter and result
    /// types' shapes computed at compile time, and the argument bytes. Not for command apps.
    /// Default false. Per call: <see cref="FluxCallOptions.Cache"/>.
    /// </summary>
    public bool Cache { get; set; }

    /// <summary>
    /// Run calls in the named pool of long-lived workers instead of a job of their own: thousands of small
    /// calls per second, sharing each worker process (and its static state) with other calls. A name with
    /// no <see cref="FluxAppsOptions.Pools"/> entry gets a default pool sized to the machine (local) or the
    /// instance (Flux). Null or empty: a job per call. Not for <see cref="MpiRanks"/> above 1 or command
    /// apps (FLUX023). Per call: <see cref="FluxCallOptions.Pool"/>.
    /// </summary>
    public string? Pool { get; set; }
}
