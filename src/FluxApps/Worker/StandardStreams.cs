using System;
using System.Runtime.InteropServices;

namespace FluxApps.Worker;

/// <summary>
/// Points a worker's stdout and stderr at its job's output files. The local backend starts
/// workers directly (no shell to redirect for them, which saves a process per task) and names the
/// files in <see cref="StdoutVariable"/> and <see cref="StderrVariable"/>; this runs before anything is written.
/// </summary>
internal static partial class StandardStreams
{
    /// <summary>File the worker appends its stdout to.</summary>
    public const string StdoutVariable = "FLUXAPPS_WORKER_STDOUT";

    /// <summary>File the worker appends its stderr to.</summary>
    public const string StderrVariable = "FLUXAPPS_WORKER_STDERR";

    private const int OpenWriteOnly = 0x1, OpenCreate = 0x40, OpenAppend = 0x400, OpenCloseOnExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    public static void RedirectFromEnvironment()
    {
        if (!OperatingSystem.IsLinux()) return;
        Redirect(Environment.GetEnvironmentVariable(StdoutVariable), 1);
        Redirect(Environment.GetEnvironmentVariable(StderrVariable), 2);
    }

    private static void Redirect(string? path, int target)
    {
        if (string.IsNullOrEmpty(path)) return;
        int fd = Open(path, OpenWriteOnly | OpenCreate | OpenAppend | OpenCloseOnExec, Convert.ToInt32("600", 8));
        if (fd < 0) return; // keep the inherited stream: output lands with the caller rather than nowhere
        Dup2(fd, target); // dup2's copy does not inherit close-on-exec: children of the app write here too
        Close(fd);
    }
}
