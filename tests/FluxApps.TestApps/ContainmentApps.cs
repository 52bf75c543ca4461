using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace FluxApps.TestApps;

/// <summary>Apps that leave processes behind the way real programs do, for the tests that a job's end or cancel kills them.</summary>
public static partial class ContainmentApps
{
    /// <summary>
    /// Starts a grandchild that no parent link leads to: <c>sh -c "(sleep 600 &amp;)"</c>, whose subshell exits at once, so
    /// the sleep is reparented to init; with <paramref name="newSession"/> it also leaves the job's session and process
    /// group (<c>setsid</c>). It writes its pid to <paramref name="pidFile"/>; then the app sleeps.
    /// </summary>
    [FluxApp]
    public static int DetachGrandchildThenSleep(string pidFile, bool newSession, int milliseconds)
    {
        DetachGrandchild(pidFile, newSession);
        Thread.Sleep(milliseconds);
        return 0;
    }

    /// <summary>The same, past its 2 s time limit.</summary>
    [FluxApp(TimeLimit = "2s")]
    public static int DetachGrandchildPastLimit(string pidFile, int milliseconds)
    {
        DetachGrandchild(pidFile, newSession: false);
        Thread.Sleep(milliseconds);
        return 0;
    }

    /// <summary>The same, then waits for its token (a cancel stops it gracefully: SIGTERM first).</summary>
    [FluxApp]
    public static int DetachGrandchildThenWait(string pidFile, CancellationToken token)
    {
        DetachGrandchild(pidFile, newSession: false);
        token.WaitHandle.WaitOne();
        token.ThrowIfCancellationRequested();
        return 0;
    }

    /// <summary>A command whose shell backgrounds a child, writes the child's pid to <paramref name="pidFile"/> and exits 0.</summary>
    [FluxApp]
    public static FluxCommand BackgroundChildAndExit(string pidFile) =>
        new("/bin/sh", "-c", "sleep 600 & echo $! > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"", pidFile);

    private static void DetachGrandchild(string pidFile, bool newSession)
    {
        // The grandchild writes its own pid, so with setsid it has its new session by then. In a non-interactive shell a
        // background command stays in the shell's process group and leads none, so setsid makes the session itself and
        // execs: the pid is the same throughout.
        const string Grandchild = "echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; exec sleep 600";
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"({(newSession ? "setsid " : "")}sh -c '{Grandchild}' \"$0\" &)");
        psi.ArgumentList.Add(pidFile);
        using var shell = Process.Start(psi)!;
        shell.WaitForExit();
        for (int i = 0; i < 3000 && !File.Exists(pidFile); i++) Thread.Sleep(10);
        if (!File.Exists(pidFile)) throw new InvalidOperationException("the grandchild never wrote its pid to " + pidFile);
    }
}
