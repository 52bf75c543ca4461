using System;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;

namespace FluxApps.Worker;

/// <summary>
/// A local job's rank ends with its client: a client killed with SIGKILL cannot end its jobs, so each worker rank
/// watches the client process (a pidfd, polled on a small thread) and, once it is gone, kills its own process group
/// (the rank and what it started). On Flux the job shell does this; there the variable is not set.
/// Blittable imports only, as in <see cref="Runtime.RawFile"/>: nothing is marshalled at start-up.
/// </summary>
internal static unsafe class ClientWatch
{
    /// <summary>Environment variable of a local rank: the pid of the client that started it.</summary>
    public const string Variable = "FLUXAPPS_LOCAL_CLIENT_PID";

    private const int PidfdOpen = 434; // the same number on every architecture
    private const int NoSuchProcess = 3, Interrupted = 4, PollIn = 1, SigKill = 9;

    /// <summary>Starts watching the client named by <see cref="Variable"/>; ends the rank at once if it is already gone.</summary>
    public static void Start()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not { } text
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int client) || client <= 0)
            return;
        int fd = (int)syscall(PidfdOpen, client, 0);
        if (fd < 0)
        {
            if (*__errno_location() == NoSuchProcess) EndRank();
            return; // no pidfds (Linux before 5.3): no watch
        }
        // Opened after the client could have died and its pid been reused: the parent link tells.
        if (getppid() != client) EndRank();
        var thread = new Thread(() => Watch(fd), maxStackSize: 64 * 1024) { IsBackground = true, Name = "FluxApps client watch" };
        thread.UnsafeStart();
    }

    private static void Watch(int fd)
    {
        var entry = new PollEntry { Fd = fd, Events = PollIn };
        while (poll(&entry, 1, -1) < 0 && *__errno_location() == Interrupted) { }
        EndRank();
    }

    private static void EndRank() => kill(0, SigKill); // this rank's own process group: it and what it started

    [StructLayout(LayoutKind.Sequential)]
    private struct PollEntry
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [DllImport("libc")]
    private static extern nint syscall(nint number, int pid, uint flags);

    [DllImport("libc")]
    private static extern int poll(PollEntry* entries, nuint count, int timeout);

    [DllImport("libc")]
    private static extern int getppid();

    [DllImport("libc")]
    private static extern int kill(int pid, int signal);

    [DllImport("libc")]
    private static extern int* __errno_location();
}
