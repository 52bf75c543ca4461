using System;
using System.Threading;

namespace FluxApps.Runtime;

/// <summary>
/// A stand-in for a slow file system (a stalled NFS or Lustre mount), for tests: where a call's end reads and removes
/// its files, it first waits <see cref="Injected"/>. Zero, and free, unless a test sets it.
/// </summary>
internal static class FileSystemStall
{
    private static long s_ticks;

    /// <summary>How long each call's end waits before its file work; zero (the default) waits not at all.</summary>
    public static TimeSpan Injected
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref s_ticks));
        set => Volatile.Write(ref s_ticks, value.Ticks);
    }

    /// <summary>Raised as a stalled wait begins, on the thread that waits: a test learns that a call's end is stuck now.</summary>
    public static event Action? Stalling;

    /// <summary>Waits as a slow file system would, when a test asked for it.</summary>
    public static void Wait()
    {
        long ticks = Volatile.Read(ref s_ticks);
        if (ticks <= 0) return;
        Stalling?.Invoke();
        Thread.Sleep(TimeSpan.FromTicks(ticks));
    }
}
