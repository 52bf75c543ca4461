using System;
using FluxApps.Runtime;

namespace FluxApps.Backends;

/// <summary>A place jobs run: the local machine or a Flux instance.</summary>
internal interface IJobBackend : IAsyncDisposable
{
    /// <summary>Human-readable summary, e.g. <c>local: 2 cores, 0 GPUs</c>.</summary>
    string Description { get; }

    /// <summary>The address of the scheduler instance the jobs go to (a Flux URI, for the <c>flux</c> CLI), or null when there is none (local).</summary>
    string? InstanceUri { get; }

    /// <summary>
    /// The default pool's shape here (<see cref="FluxPoolOptions"/>): local, one core per worker and a worker per core;
    /// Flux, one worker per node holding the node's cores.
    /// </summary>
    (int MaxWorkers, int CpusPerWorker) DefaultPoolShape { get; }

    /// <summary>
    /// The transport between a pool's client and its workers here: by default a Unix socket in the run directory
    /// (workers on this machine); the Flux backend uses Flux messaging, which reaches every node of the instance.
    /// </summary>
    Pools.IPoolTransport CreatePoolTransport(string runDirectory) => new Pools.PoolListener(runDirectory);

    /// <summary>Queues a job; its outcome arrives through <see cref="JobRequest.Completed"/>, exactly once.</summary>
    void Submit(JobRequest job);

    /// <summary>Cancels a job wherever it is; the outcome is <see cref="JobOutcome.Cancelled"/> unless it already ended.</summary>
    void Cancel(JobRequest job);
}
