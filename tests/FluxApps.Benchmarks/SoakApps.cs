using System.Runtime.InteropServices;
using System.Text;

namespace FluxApps.Benchmarks;

/// <summary>A small record argument, so the soak's calls also carry a generated-serializer type.</summary>
public sealed record SoakItem(int Index, string Label, double[] Values);

/// <summary>
/// The soak's apps: small ones whose result the caller can compute from the arguments, and
/// faulty ones that fail in one known way each. Shared (linked) by the benchmarks program and
/// the end-to-end tests, so both run the same calls.
/// </summary>
public static partial class SoakApps
{
    /// <summary>FNV-1a of the text and the index: a result the caller computes too.</summary>
    [FluxApp]
    public static long Checksum(int index, string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text + "#" + index))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    /// <summary>A record in, a string out.</summary>
    [FluxApp]
    public static string Describe(SoakItem item) =>
        $"{item.Index}:{item.Label}:{item.Values.Length}:{item.Values.Sum().ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Throws: the caller expects a <see cref="FluxAppException"/> with this type and message.</summary>
    [FluxApp]
    public static int Throw(int index) => throw new InvalidOperationException(ThrowMessage(index));

    public static string ThrowMessage(int index) => $"soak fault {index}";

    /// <summary>Exits the worker with <paramref name="code"/> and no result.</summary>
    [FluxApp]
    public static int Exit(int code)
    {
        Environment.Exit(code);
        return 0;
    }

    /// <summary>
    /// Kills its own process with <paramref name="signal"/> (SIGKILL, SIGSEGV, ...). The .NET runtime handles
    /// SIGSEGV itself and ignores one sent by kill, so the default action is restored first; no core file is
    /// written. Returns -1 only if the process survived, which the caller sees as a wrong outcome, not a hang.
    /// </summary>
    [FluxApp]
    public static int KillSelf(int signal)
    {
        var noCore = new ResourceLimit();
        _ = SetResourceLimit(ResourceLimitCore, ref noCore);
        _ = SetSignalHandler(signal, s_signalDefault);
        _ = Kill(Environment.ProcessId, signal);
        Thread.Sleep(5000);
        return -1;
    }

    private const int ResourceLimitCore = 4; // RLIMIT_CORE
    private static readonly IntPtr s_signalDefault = IntPtr.Zero; // SIG_DFL

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "setrlimit")]
    private static extern int SetResourceLimit(int resource, ref ResourceLimit limit);

    [DllImport("libc", EntryPoint = "signal")]
    private static extern IntPtr SetSignalHandler(int signal, IntPtr handler);

    /// <summary>Sleeps: for time limits and cancellation (long enough that only the scheduler can end it).</summary>
    [FluxApp]
    public static int Sleep(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return milliseconds;
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
