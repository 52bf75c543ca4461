using System.Collections.Generic;

namespace FluxApps;

/// <summary>
/// Per-call overrides for one app call: every resource property of <see cref="FluxAppAttribute"/>
/// (null keeps the attribute's value), plus environment, working directory and runtime.
/// Invalid values throw <see cref="System.ArgumentException"/> before anything is submitted.
/// </summary>
public sealed class FluxCallOptions
{
    /// <summary>Cores per rank.</summary>
    public int? Cpus { get; init; }

    /// <summary>GPUs per rank.</summary>
    public int? Gpus { get; init; }

    /// <summary>Number of ranks (tasks).</summary>
    public int? MpiRanks { get; init; }

    /// <summary>Number of nodes; 0 lets the scheduler choose.</summary>
    public int? Nodes { get; init; }

    /// <summary>Allocate whole nodes (requires a node count).</summary>
    public bool? Exclusive { get; init; }

    /// <summary>Time limit as a Flux Standard Duration (<c>"90s"</c>, <c>"10m"</c>, <c>"2h"</c>).</summary>
    public string? TimeLimit { get; init; }

    /// <summary>Flux queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Urgency 0–31.</summary>
    public int? Urgency { get; init; }

    /// <summary>Job name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Resubmissions after a system failure for this call (see <see cref="FluxAppAttribute.Retries"/>); 0 or more.
    /// Null keeps the attribute's value.
    /// </summary>
    public int? Retries { get; init; }

    /// <summary>
    /// Read and store this call's result in the checkpoint directory (see <see cref="FluxAppAttribute.Cache"/>).
    /// False forces a recompute (and does not store); null keeps the attribute's value. A command app
    /// cannot be cached: true throws <see cref="System.ArgumentException"/>.
    /// </summary>
    public bool? Cache { get; init; }

    /// <summary>
    /// The pool (see <see cref="FluxAppAttribute.Pool"/>) that runs this call; <c>""</c> runs it as a job of its
    /// own even when the attribute names a pool; null keeps the attribute's value. A pooled call cannot take
    /// <see cref="MpiRanks"/> above 1, <see cref="Nodes"/>, <see cref="Exclusive"/>, <see cref="Queue"/>,
    /// <see cref="Environment"/>, <see cref="WorkingDirectory"/> or <see cref="ShellOptions"/>, nor more
    /// <see cref="Cpus"/> or <see cref="Gpus"/> than a worker has: <see cref="System.ArgumentException"/> naming the option.
    /// </summary>
    public string? Pool { get; init; }

    /// <summary>
    /// Environment variables for the job, on top of the caller's environment (which jobs inherit by
    /// default). A null value removes the variable.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Working directory of the job's tasks; default: the caller's current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The runtime that runs this call; default: <see cref="FluxAppsRuntime.Default"/> (started on first use).</summary>
    public FluxAppsRuntime? Runtime { get; init; }

    /// <summary>Keep the call's payload and output files after it completes (default: the runtime's setting).</summary>
    public bool? KeepFiles { get; init; }

    /// <summary>
    /// Flux backend: job shell options for this call, on top of <see cref="FluxAppsOptions.FluxShellOptions"/>
    /// (same form: <c>["cpu-affinity"] = "per-task"</c>; a null value removes an option). Ignored by the local backend.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? ShellOptions { get; init; }
}
