using System;

namespace FluxApps;

/// <summary>
/// Settings of one pool of long-lived workers (see <see cref="FluxAppAttribute.Pool"/>). Each worker is a
/// job of the backend (a Flux job, or a local worker process that holds its cores in the local scheduler);
/// calls run inside it concurrently up to its cores. Null properties take the default pool's values.
/// </summary>
public sealed class FluxPoolOptions
{
    /// <summary>The pool's name, as <see cref="FluxAppAttribute.Pool"/> and <see cref="FluxCallOptions.Pool"/> give it.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Most workers the pool grows to. Default: local, the machine's cores divided by <see cref="CpusPerWorker"/>;
    /// Flux, the instance's nodes.
    /// </summary>
    public int? MaxWorkers { get; init; }

    /// <summary>Cores each worker holds (and the calls it runs at once, one core each by default). Default: local 1; Flux, the cores of the instance's smallest node (its resource set).</summary>
    public int? CpusPerWorker { get; init; }

    /// <summary>GPUs each worker holds. Default 0.</summary>
    public int? GpusPerWorker { get; init; }

    /// <summary>Time limit of each worker job (Flux Standard Duration); null for none. Calls still running when it passes fail with <see cref="FluxJobFailureKind.WorkerLost"/>.</summary>
    public string? TimeLimit { get; init; }

    /// <summary>How long a worker may sit without a call before it ends (the pool shrinks to zero and grows again on demand). Default 30 seconds.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Flux queue of the worker jobs; null for the default queue.</summary>
    public string? Queue { get; init; }
}
