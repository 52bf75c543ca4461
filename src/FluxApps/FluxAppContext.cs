using System;

namespace FluxApps;

/// <summary>
/// Where the current code runs inside a job: rank, size, local rank and job id. Read from the
/// same environment variables Flux's job shell sets (<c>FLUX_TASK_RANK</c>, <c>FLUX_JOB_SIZE</c>,
/// <c>FLUX_TASK_LOCAL_ID</c>, <c>FLUX_JOB_ID</c>), which the local backend sets too.
/// </summary>
public sealed class FluxAppContext
{
    private static FluxAppContext? s_current;

    // A pooled call's own context (its GPUs), set by the pool worker around each call.
    private static readonly System.Threading.AsyncLocal<FluxAppContext?> s_call = new();

    private FluxAppContext(int rank, int size, int localRank, FluxJobId jobId, int nodes, int[] gpuIds)
    {
        GpuIds = gpuIds;
        Rank = rank;
        Size = size;
        LocalRank = localRank;
        JobId = jobId;
        Nodes = nodes;
    }

    /// <summary>This task's rank, 0 to <see cref="Size"/> - 1.</summary>
    public int Rank { get; }

    /// <summary>Number of tasks (ranks) in the job.</summary>
    public int Size { get; }

    /// <summary>This task's index among the job's tasks on the same node.</summary>
    public int LocalRank { get; }

    /// <summary>Number of nodes the job runs on.</summary>
    public int Nodes { get; }

    /// <summary>The job's id (in a pool: the worker's job).</summary>
    public FluxJobId JobId { get; }

    /// <summary>
    /// The GPUs this call may use, as device numbers of the machine (<c>CUDA_VISIBLE_DEVICES</c> of a job of its
    /// own; in a pool, the ones the call was given out of its worker's: one process cannot narrow
    /// <c>CUDA_VISIBLE_DEVICES</c> per call, so select the device by these numbers). Empty without GPUs.
    /// </summary>
    public System.Collections.Generic.IReadOnlyList<int> GpuIds { get; }

    /// <summary>A pooled call's context: the worker's, with the GPUs the call holds.</summary>
    internal static FluxAppContext ForPooledCall(int[] gpuIds)
    {
        var worker = TryGetWorkerContext();
        return new FluxAppContext(0, 1, 0, worker?.JobId ?? default, 1, gpuIds);
    }

    /// <summary>Sets (or with null clears) the context of the pooled call running on this flow.</summary>
    internal static void SetPooledCall(FluxAppContext? context) => s_call.Value = context;

    /// <summary>The GPUs of this process (<c>CUDA_VISIBLE_DEVICES</c>), as device numbers; "-1" or unset means none.</summary>
    internal static int[] VisibleGpus()
    {
        string? text = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        if (string.IsNullOrEmpty(text)) return Array.Empty<int>();
        var ids = new System.Collections.Generic.List<int>();
        foreach (string part in text.Split(','))
        {
            int id = Worker.FluxWorker.ParseNonNegative(part.Trim(), -1);
            if (id >= 0) ids.Add(id);
        }
        return ids.ToArray();
    }

    /// <summary>True when the code runs inside a FluxApps job.</summary>
    public static bool IsInsideApp => TryGetCurrent() is not null;

    /// <summary>The context of the running app. Throws <see cref="InvalidOperationException"/> outside a job.</summary>
    public static FluxAppContext Current => TryGetCurrent()
        ?? throw new InvalidOperationException("FluxAppContext.Current is only available inside a running [FluxApp] method (FLUX_TASK_RANK is not set).");

    private static FluxAppContext? TryGetCurrent() => s_call.Value ?? TryGetWorkerContext();

    private static FluxAppContext? TryGetWorkerContext()
    {
        if (s_current is not null) return s_current;
        string? rank = Environment.GetEnvironmentVariable("FLUX_TASK_RANK");
        if (rank is null) return null;
        s_current = new FluxAppContext(
            ParseInt(rank, 0),
            ParseInt(Environment.GetEnvironmentVariable("FLUX_JOB_SIZE"), 1),
            ParseInt(Environment.GetEnvironmentVariable("FLUX_TASK_LOCAL_ID"), 0),
            FluxJobId.TryParse(Environment.GetEnvironmentVariable("FLUX_JOB_ID"), out var id) ? id : default,
            ParseInt(Environment.GetEnvironmentVariable("FLUX_JOB_NNODES"), 1),
            VisibleGpus());
        return s_current;
    }

    private static int ParseInt(string? text, int fallback) => Worker.FluxWorker.ParseNonNegative(text, fallback);

    /// <inheritdoc />
    public override string ToString() => $"job {JobId} rank {Rank}/{Size} (local {LocalRank})";
}
