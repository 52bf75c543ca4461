using System.Threading;

namespace FluxApps.Pools;

/// <summary>One call in a pool, from its submission to the worker's answer (which may come after its future settled).</summary>
internal sealed class PooledCall(long id, FluxFuture future, byte[]? arguments, int cpus, int gpus, string? timeLimit, double timeLimitSeconds)
{
    public enum Stage
    {
        /// <summary>Waiting in the pool's queue (in the client: nothing sent yet).</summary>
        Queued,
        /// <summary>Sent to a worker, future not settled.</summary>
        Running,
        /// <summary>Cancelled or past its time limit while running: the future is settled, the worker still holds its cores until it answers.</summary>
        Abandoned,
        /// <summary>Over.</summary>
        Done,
    }

    public long Id { get; } = id;
    public FluxFuture Future { get; } = future;

    /// <summary>The arguments payload (header and argument bytes); dropped once sent; null when it travels in <see cref="ArgumentsFile"/>.</summary>
    public byte[]? Arguments { get; set; } = arguments;

    public int Cpus { get; } = cpus;
    public int Gpus { get; } = gpus;
    public string? TimeLimit { get; } = timeLimit;
    public double TimeLimitSeconds { get; } = timeLimitSeconds;

    public Stage State { get; set; } = Stage.Queued;
    public PoolWorker? Worker { get; set; }
    public int[] GpuSlots { get; set; } = System.Array.Empty<int>();

    /// <summary>Its place in the pool's queue while queued.</summary>
    public System.Collections.Generic.LinkedListNode<PooledCall>? Node { get; set; }

    /// <summary>
    /// Where the call's files are kept (<see cref="FluxCallOptions.KeepFiles"/>): its arguments, and once it answers its
    /// result or error report and stderr tail, as a job of its own leaves them, so it can be rerun by hand; null when not kept.
    /// </summary>
    public string? KeepDirectory { get; init; }

    /// <summary>The file holding the arguments payload when it is too large for a frame (<see cref="PoolFrames.InlineLimit"/>), else null.</summary>
    public string? ArgumentsFile { get; init; }

    /// <summary>The time limit, then the grace period of an abandoned call.</summary>
    public System.IDisposable? Timer { get; set; }
}
