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
        if (File.Exists(ThrowMarker)) throw new InvalidOperationException("start-up refused: " + ThrowMarker + " is present");
    }
}
