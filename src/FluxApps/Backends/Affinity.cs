using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace FluxApps.Backends;

/// <summary>
/// CPU affinity of the calling thread (Linux). A child process inherits the affinity of the
/// thread that forks it, so setting it around <c>Process.Start</c> pins a worker from its first
/// instruction, runtime threads included.
/// </summary>
internal static partial class Affinity
{
    private const int SetSize = 128; // bytes: cpu_set_t for 1024 CPUs

    /// <summary>Bytes of a raw affinity mask (<see cref="TryGetCurrentThreadMask"/>).</summary>
    public const int MaskBytes = SetSize;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_getaffinity(int pid, nuint cpusetsize, Span<byte> mask);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint cpusetsize, ReadOnlySpan<byte> mask);

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>The CPUs the calling thread may run on, or null where that cannot be read.</summary>
    public static int[]? GetCurrentThreadCpus()
    {
        if (!IsSupported) return null;
        Span<byte> mask = stackalloc byte[SetSize];
        if (sched_getaffinity(0, SetSize, mask) != 0) return null;
        var cpus = new List<int>();
        for (int i = 0; i < SetSize * 8; i++)
            if ((mask[i / 8] & (1 << (i % 8))) != 0) cpus.Add(i);
        return cpus.ToArray();
    }

    /// <summary>Restricts the calling thread to <paramref name="cpus"/>; false if that failed.</summary>
    public static bool SetCurrentThreadCpus(ReadOnlySpan<int> cpus)
    {
        if (!IsSupported) return false;
        Span<byte> mask = stackalloc byte[SetSize];
        mask.Clear();
        foreach (int cpu in cpus)
            if (cpu >= 0 && cpu < SetSize * 8) mask[cpu / 8] |= (byte)(1 << (cpu % 8));
        return sched_setaffinity(0, SetSize, mask) == 0;
    }

    /// <summary>Copies the calling thread's raw affinity mask into <paramref name="mask"/> (<see cref="MaskBytes"/> long); false where it cannot be read.</summary>
    public static bool TryGetCurrentThreadMask(Span<byte> mask) => IsSupported && sched_getaffinity(0, SetSize, mask) == 0;

    /// <summary>Restores a mask read by <see cref="TryGetCurrentThreadMask"/>.</summary>
    public static bool SetCurrentThreadMask(ReadOnlySpan<byte> mask) => IsSupported && sched_setaffinity(0, SetSize, mask) == 0;
}
