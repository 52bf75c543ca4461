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

    private FluxAppContext(int rank, int size, int localRank, FluxJobId jobId, int nodes)
    {
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

    /// <summary>The job's id.</summary>
    public FluxJobId JobId { get; }

    /// <summary>True when the code runs inside a FluxApps job.</summary>
    public static bool IsInsideApp => TryGetCurrent() is not null;

    /// <summary>The context of the running app. Throws <see cref="InvalidOperationException"/> outside a job.</summary>
    public static FluxAppContext Current => TryGetCurrent()
        ?? throw new InvalidOperationException("FluxAppContext.Current is only available inside a running [FluxApp] method (FLUX_TASK_RANK is not set).");

    private static FluxAppContext? TryGetCurrent()
    {
        if (s_current is not null) return s_current;
        string? rank = Environment.GetEnvironmentVariable("FLUX_TASK_RANK");
        if (rank is null) return null;
        s_current = new FluxAppContext(
            ParseInt(rank, 0),
            ParseInt(Environment.GetEnvironmentVariable("FLUX_JOB_SIZE"), 1),
            ParseInt(Environment.GetEnvironmentVariable("FLUX_TASK_LOCAL_ID"), 0),
            FluxJobId.TryParse(Environment.GetEnvironmentVariable("FLUX_JOB_ID"), out var id) ? id : default,
            ParseInt(Environment.GetEnvironmentVariable("FLUX_JOB_NNODES"), 1));
        return s_current;
    }

    private static int ParseInt(string? text, int fallback) => Worker.FluxWorker.ParseNonNegative(text, fallback);

    /// <inheritdoc />
    public override string ToString() => $"job {JobId} rank {Rank}/{Size} (local {LocalRank})";
}
