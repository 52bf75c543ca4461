using System;
using System.Collections.Generic;

using FluxApps.Runtime;

namespace FluxApps;

/// <summary>
/// The app method threw inside its job. Carries the remote exception's type, message and stack
/// trace as text (the exception object itself stays on the compute node).
/// </summary>
public sealed class FluxAppException : Exception
{
    /// <summary>Creates the exception from what the worker reported.</summary>
    public FluxAppException(string appName, FluxJobId? jobId, int rank, string remoteType, string remoteMessage, string remoteStackTrace)
        : base(FormatMessage(appName, jobId, rank, remoteType, remoteMessage))
    {
        AppName = appName;
        JobId = jobId;
        Rank = rank;
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>The app (method) that threw.</summary>
    public string AppName { get; }

    /// <summary>The job the app ran in.</summary>
    public FluxJobId? JobId { get; }

    /// <summary>The rank that threw first.</summary>
    public int Rank { get; }

    /// <summary>Full name of the remote exception's type, e.g. <c>System.InvalidOperationException</c>.</summary>
    public string RemoteType { get; }

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>The remote exception's stack trace (inner exceptions included), as the worker printed it.</summary>
    public string RemoteStackTrace { get; }

    /// <summary>
    /// The failures of the call's earlier attempts, oldest first, when it was retried
    /// (<see cref="FluxAppAttribute.Retries"/>); empty when this was its only attempt. This exception is
    /// the last attempt's, so its type and properties say how the call finally failed.
    /// </summary>
    public IReadOnlyList<Exception> EarlierFailures { get; internal set; } = Array.Empty<Exception>();

    /// <inheritdoc />
    public override string Message => RetryPolicy.WithAttempts(base.Message, EarlierFailures);

    /// <inheritdoc />
    public override string? StackTrace =>
        RemoteStackTrace + Environment.NewLine + "--- End of remote stack trace ---" + Environment.NewLine + base.StackTrace;

    /// <summary>A new instance with the same content, for another future that ends with the same failure (each caller may set its own <see cref="EarlierFailures"/>).</summary>
    internal FluxAppException Copy() =>
        new(AppName, JobId, Rank, RemoteType, RemoteMessage, RemoteStackTrace) { EarlierFailures = EarlierFailures };

    private static string FormatMessage(string appName, FluxJobId? jobId, int rank, string remoteType, string remoteMessage) =>
        $"{appName} threw {remoteType} in job {jobId?.ToString() ?? "(none)"}, rank {rank}: {remoteMessage}";
}

/// <summary>Why a job ended without a result.</summary>
public enum FluxJobFailureKind
{
    /// <summary>The request can never be satisfied (too many cores, GPUs or nodes), or was rejected at submit.</summary>
    Rejected,
    /// <summary>The job ran past its time limit and was killed.</summary>
    TimeLimit,
    /// <summary>A task exited with a non-zero code without reporting an exception.</summary>
    Exited,
    /// <summary>A task was killed by a signal.</summary>
    Signaled,
    /// <summary>A node the job ran on failed, or the job was lost.</summary>
    NodeFailure,
    /// <summary>The backend (broker, connection) failed before the job's end was known.</summary>
    BackendFailure,
    /// <summary>The job ended but its result could not be read (missing or from another build).</summary>
    BadResult,
    /// <summary>An exception event of another kind.</summary>
    Other,

    /// <summary>
    /// The pool worker running the call died (crash, <c>Environment.Exit</c>, out of memory, its job cancelled
    /// or past its time limit, node lost) before the call returned; <see cref="FluxJobException.ExitCode"/> or
    /// <see cref="FluxJobException.Signal"/> say how the worker ended, when known. Retried like a crash.
    /// </summary>
    WorkerLost,
}

/// <summary>
/// The job ended without a result: rejected or unsatisfiable, time limit, crash, signal, node or
/// backend failure. Carries Flux's own exception text, the exit code or signal, and the tail of stderr.
/// </summary>
public sealed class FluxJobException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FluxJobException(string message, FluxJobFailureKind kind, string appName, FluxJobId? jobId,
        int? exitCode = null, int? signal = null, string? fluxException = null, string? stderrTail = null, Exception? inner = null)
        : base(Compose(message, stderrTail), inner)
    {
        _plainMessage = message;
        Kind = kind;
        AppName = appName;
        JobId = jobId;
        ExitCode = exitCode;
        Signal = signal;
        FluxExceptionText = fluxException;
        StderrTail = stderrTail ?? "";
    }

    /// <summary>Why the job failed.</summary>
    public FluxJobFailureKind Kind { get; }

    /// <summary>The app the job ran.</summary>
    public string AppName { get; }

    /// <summary>The job id, when one was assigned.</summary>
    public FluxJobId? JobId { get; }

    /// <summary>Exit code of the failing task, when it exited.</summary>
    public int? ExitCode { get; }

    /// <summary>Signal that killed the failing task, when it was signaled.</summary>
    public int? Signal { get; }

    /// <summary>The scheduler's own exception text (Flux's exception event note, or the local backend's equivalent).</summary>
    public string? FluxExceptionText { get; }

    /// <summary>The last lines the job wrote to stderr (may be empty).</summary>
    public string StderrTail { get; }

    /// <summary>
    /// The failures of the call's earlier attempts, oldest first, when it was retried
    /// (<see cref="FluxAppAttribute.Retries"/>); empty when this was its only attempt. This exception is
    /// the last attempt's, so its type and properties say how the call finally failed.
    /// </summary>
    public IReadOnlyList<Exception> EarlierFailures { get; internal set; } = Array.Empty<Exception>();

    /// <inheritdoc />
    public override string Message => RetryPolicy.WithAttempts(base.Message, EarlierFailures);

    private readonly string _plainMessage;

    /// <summary>A new instance with the same content, for another future that ends with the same failure (each caller may set its own <see cref="EarlierFailures"/>).</summary>
    internal FluxJobException Copy() =>
        new(_plainMessage, Kind, AppName, JobId, ExitCode, Signal, FluxExceptionText, StderrTail, InnerException) { EarlierFailures = EarlierFailures };

    /// <summary>
    /// The exception a further future ends with when several end with one failure: a copy of the
    /// FluxApps exceptions, whose <c>EarlierFailures</c> belong to one call; any other exception as it is.
    /// </summary>
    internal static Exception CopyFor(Exception failure) => failure switch
    {
        FluxJobException job => job.Copy(),
        FluxAppException app => app.Copy(),
        _ => failure,
    };

    private static string Compose(string message, string? stderrTail) =>
        string.IsNullOrWhiteSpace(stderrTail) ? message : message + Environment.NewLine + "stderr (tail):" + Environment.NewLine + stderrTail.TrimEnd();
}
