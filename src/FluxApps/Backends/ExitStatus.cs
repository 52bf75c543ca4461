using System;

namespace FluxApps.Backends;

/// <summary>
/// How one process ended: exited with <see cref="Code"/>, killed by <see cref="Signal"/>, or unknown
/// (<see cref="UnknownReason"/>: its wait status could not be read).
/// </summary>
/// <param name="Code">The exit code when the process exited (0 when a signal killed it).</param>
/// <param name="Signal">The signal that killed it, or null when it exited.</param>
/// <param name="CodeMayBeSignal">
/// True when whoever reported the status folded signals into exit codes (128 + N, as
/// <see cref="System.Diagnostics.Process.ExitCode"/> and Flux's job shell do), so a code of 129-192 may mean a signal.
/// </param>
/// <param name="UnknownReason">Why the status is unknown, or null when it is known.</param>
internal readonly record struct ExitStatus(int Code, int? Signal, bool CodeMayBeSignal = false, string? UnknownReason = null)
{
    /// <summary>The process exited with <paramref name="code"/>.</summary>
    public static ExitStatus Exited(int code) => new(code, null);

    /// <summary>Signal <paramref name="signal"/> killed the process.</summary>
    public static ExitStatus Killed(int signal) => new(0, signal);

    /// <summary>A status where a signal N reads as exit code 128 + N (the caller cannot tell the two apart).</summary>
    public static ExitStatus Folded(int code) => new(code, null, CodeMayBeSignal: code > 128 && code <= 128 + 64);

    /// <summary>The process is gone but how it ended is not known.</summary>
    public static ExitStatus Unknown(string reason) => new(0, null, UnknownReason: reason);

    /// <summary>Decodes a POSIX wait status (<c>waitpid</c>): exited with a code, or killed by a signal.</summary>
    public static ExitStatus FromWaitStatus(int status)
    {
        int signal = status & 0x7f;
        return signal == 0 ? Exited((status >> 8) & 0xff) : Killed(signal);
    }

    /// <summary>True when the status is known.</summary>
    public bool IsKnown => UnknownReason is null;

    /// <summary>True when the process exited with code 0.</summary>
    public bool IsSuccess => IsKnown && Signal is null && Code == 0;

    /// <summary>The status as a POSIX wait status (what Flux's <c>finish</c> event carries).</summary>
    public int WaitStatus => Signal is int s ? s : Code << 8;

    /// <summary>A signal's name for messages (<c>SIGKILL</c>), or <c>signal N</c> for one without a common name.</summary>
    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 11 => "SIGSEGV", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM", 24 => "SIGXCPU",
        _ => "signal " + signal,
    };

    public override string ToString() =>
        !IsKnown ? "unknown: " + UnknownReason : Signal is int s ? $"signal {s}" : $"exit {Code}";
}
