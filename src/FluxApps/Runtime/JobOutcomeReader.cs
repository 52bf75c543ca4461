using System;
using System.IO;
using System.Linq;
using System.Threading;
using FluxApps.Backends;

namespace FluxApps.Runtime;

/// <summary>
/// Turns how a job ended, as its backend saw it (<see cref="JobOutcome"/>), and the files it left in its call
/// directory into the call's result or exception: the result payload, the ranks' error reports, the exact exit
/// status (<see cref="WithExactExitStatus"/>) and the stderr tail. Reading happens before the call's files go;
/// settling the future (<see cref="Settle"/>) after.
/// </summary>
internal static class JobOutcomeReader
{
    /// <summary>
    /// Reads what the job left and returns how to settle its future. Never throws: a job whose files cannot be
    /// read settles with <see cref="FluxJobFailureKind.BadResult"/>.
    /// </summary>
    public static Action Read(JobRequest job, JobOutcome outcome)
    {
        var future = job.Future;
        try
        {
            return outcome switch
            {
                JobOutcome.Cancelled => () => future.TrySetCanceled(CancellationToken.None),
                JobOutcome.Failed failed => () => future.TrySetException(failed.Exception),
                JobOutcome.Finished finished => OutcomeFromFiles(job, finished),
                _ => throw new InvalidOperationException("unknown outcome " + outcome),
            };
        }
        catch (Exception ex)
        {
            return () => future.TrySetException(new FluxJobException(
                $"{future.AppName} (job {job.Id}): its result could not be read: {ex.Message}", FluxJobFailureKind.BadResult,
                future.AppName, job.Id, inner: ex));
        }
    }

    /// <summary>Settles the future as <see cref="Read"/> decided; a result that cannot be decoded settles with <see cref="FluxJobFailureKind.BadResult"/>.</summary>
    public static void Settle(JobRequest job, Action settle)
    {
        try
        {
            settle();
        }
        catch (Exception ex)
        {
            var future = job.Future;
            future.TrySetException(new FluxJobException(
                $"{future.AppName} (job {job.Id}): its result could not be decoded: {ex.Message}", FluxJobFailureKind.BadResult,
                future.AppName, job.Id, inner: ex));
        }
    }

    /// <summary>Reads what a job whose tasks ran to their end left (result or error reports) and returns how to settle the future.</summary>
    private static Action OutcomeFromFiles(JobRequest job, JobOutcome.Finished finished)
    {
        var future = job.Future;
        finished = WithExactExitStatus(job, finished);
        if (job.Command is not null)
        {
            // A command app's outcome is its exit status: the program's own business, not an error.
            int exitCode = finished.Signal is int s ? 128 + s : finished.ExitCode;
            var commandResult = new FluxCommandResult(job.Id, exitCode, finished.Signal, job.StdoutPath, job.StderrPath);
            return () => future.TrySetValue(commandResult);
        }
        Payload.ErrorReport? error = FirstErrorReport(job.JobDirectory, job.Resources.MpiRanks, finished.FailedRank);
        if (error is not null)
        {
            if (error.Kind == Payload.ErrorKind.AppException)
            {
                var appException = new FluxAppException(future.AppName, job.Id, error.Rank, error.Type, error.Message, error.StackTrace);
                return () => future.TrySetException(appException);
            }
            var refused = new FluxJobException(
                $"{future.AppName} (job {job.Id}): the worker refused the call on rank {error.Rank}: {error.Message}",
                FluxJobFailureKind.BadResult, future.AppName, job.Id, finished.ExitCode, finished.Signal, stderrTail: StderrTail.Read(job.StderrPath));
            return () => future.TrySetException(refused);
        }
        if (finished.Signal is int signal)
        {
            var signaled = new FluxJobException(
                $"{future.AppName} (job {job.Id}): rank {finished.FailedRank} was killed by signal {signal} ({ExitStatus.SignalName(signal)}).",
                FluxJobFailureKind.Signaled, future.AppName, job.Id, null, signal, stderrTail: StderrTail.Read(job.StderrPath));
            return () => future.TrySetException(signaled);
        }
        if (finished.ExitCode != 0)
        {
            var exited = new FluxJobException(
                $"{future.AppName} (job {job.Id}): rank {finished.FailedRank} exited with code {finished.ExitCode} without a result.",
                FluxJobFailureKind.Exited, future.AppName, job.Id, finished.ExitCode, null, stderrTail: StderrTail.Read(job.StderrPath));
            return () => future.TrySetException(exited);
        }
        string resultPath = Path.Combine(job.JobDirectory, Payload.ResultFile);
        if (!File.Exists(resultPath))
        {
            var missing = new FluxJobException(
                $"{future.AppName} (job {job.Id}): rank 0 exited normally but wrote no result to {resultPath}.",
                FluxJobFailureKind.BadResult, future.AppName, job.Id, 0, stderrTail: StderrTail.Read(job.StderrPath));
            return () => future.TrySetException(missing);
        }
        var result = Payload.ReadResult(resultPath); // the whole payload is in memory: the file may go
        return () => future.SetResult(result);
    }

    /// <summary>
    /// The failing task's status, exact where it can be: where the backend folded a signal N into exit code
    /// 128 + N (Flux's job shell, System.Diagnostics.Process), the workers' exit records decide: a rank that
    /// recorded that code exited with it, and when none did, a signal killed it (a killed process records
    /// nothing). A command app's program records nothing, so its code stays an exit code (see FluxCommandResult).
    /// </summary>
    internal static JobOutcome.Finished WithExactExitStatus(JobRequest job, JobOutcome.Finished finished)
    {
        int code = finished.ExitCode;
        if (!finished.ExitCodeMayBeSignal || finished.Signal is not null || code <= 128 || code > 128 + 64) return finished;
        if (job.Command is not null) return finished with { ExitCodeMayBeSignal = false };
        bool exited = finished.FailedRank >= 0
            ? Payload.ReadExitRecord(job.JobDirectory, finished.FailedRank) == code
            : Enumerable.Range(0, job.Resources.MpiRanks).Any(rank => Payload.ReadExitRecord(job.JobDirectory, rank) == code);
        return exited
            ? finished with { ExitCodeMayBeSignal = false }
            : finished with { ExitCode = 0, Signal = code - 128, ExitCodeMayBeSignal = false };
    }

    /// <summary>The error report of <paramref name="preferredRank"/> (the failing one) if it wrote one, else the lowest rank's.</summary>
    private static Payload.ErrorReport? FirstErrorReport(string jobDirectory, int ranks, int preferredRank)
    {
        if (preferredRank >= 0)
        {
            string preferred = Path.Combine(jobDirectory, Payload.ErrorFile(preferredRank));
            if (File.Exists(preferred)) return Payload.ReadError(preferred);
        }
        for (int rank = 0; rank < ranks; rank++)
        {
            string path = Path.Combine(jobDirectory, Payload.ErrorFile(rank));
            if (File.Exists(path)) return Payload.ReadError(path);
        }
        return null;
    }
}
