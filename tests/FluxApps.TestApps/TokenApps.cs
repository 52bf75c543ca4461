using System;
using System.IO;
using System.Threading;

namespace FluxApps.TestApps;

/// <summary>Apps that take the call's cancellation token, and the worker start-up method of this assembly.</summary>
public static partial class TokenApps
{
    /// <summary>Writes <c>MARKER.started</c>, waits for its token, then writes <paramref name="marker"/> (the proof it saw the cancellation).</summary>
    [FluxApp]
    public static int WaitForCancellation(string marker, CancellationToken token)
    {
        File.WriteAllText(marker + ".started", Environment.ProcessId.ToString());
        token.WaitHandle.WaitOne();
        File.WriteAllText(marker + ".tmp", "cancelled");
        File.Move(marker + ".tmp", marker);
        token.ThrowIfCancellationRequested();
        return 0;
    }

    /// <summary>This worker process's id and how many times its [FluxWorkerStartup] method ran in it.</summary>
    [FluxApp]
    public static int[] StartupRuns(int callNumber) => [Environment.ProcessId, WorkerStartup.Runs, callNumber];
}

/// <summary>The [FluxWorkerStartup] method of the test apps: counts its runs in this process.</summary>
public static class WorkerStartup
{
    /// <summary>A file that, in the worker's working directory, makes the start-up method throw.</summary>
    public const string ThrowMarker = "fluxapps-startup-throws";

    private static int s_runs;

    public static int Runs => Volatile.Read(ref s_runs);

    [FluxWorkerStartup]
    public static void CountRuns()
    {
        Interlocked.Increment(ref s_runs);
        // In the working directory (a job of its own can be given one), or in the runtime's run directory, above the
        // worker's job directory (a pool worker's too), so one runtime's test does not reach another's workers.
        string? jobDirectory = Environment.GetEnvironmentVariable("FLUXAPPS_JOB_DIR");
        string? runDirectory = jobDirectory is null ? null : Path.GetDirectoryName(Path.GetFullPath(jobDirectory));
        if (File.Exists(ThrowMarker) || (runDirectory is not null && File.Exists(Path.Combine(runDirectory, ThrowMarker))))
            throw new InvalidOperationException("start-up refused: " + ThrowMarker + " is present");
    }
}
