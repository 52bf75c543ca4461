using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Internal;
using FluxApps.Serialization;

namespace FluxApps.Runtime;

/// <summary>
/// Which failures a call retries, how long it waits between attempts, and the state of one call
/// that may be retried (<see cref="Attempt"/>).
/// </summary>
internal static class RetryPolicy
{
    /// <summary>The first wait before a resubmission; each later one doubles, up to <see cref="MaxDelay"/>.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts: long enough for a node to be drained, short enough not to stall a workflow.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    /// <summary>The call's retries: the per-call override or the attribute's; throws <see cref="ArgumentException"/> naming a negative value.</summary>
    public static int ResolveRetries(FluxAppDescriptor app, FluxCallOptions? options)
    {
        int retries = options?.Retries ?? app.Retries;
        if (FluxAppRules.CheckRetries(retries) is { } problem)
            throw new ArgumentException($"{app.DisplayName}: {problem}.", nameof(FluxCallOptions.Retries));
        return retries;
    }

    /// <summary>The wait before retry number <paramref name="retry"/> (1 for the first): 100 ms, 200 ms, 400 ms, ... at most 2 s.</summary>
    public static TimeSpan Delay(int retry)
    {
        double ms = FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Math.Max(retry - 1, 0), 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    /// <summary>
    /// Whether a new attempt could succeed where this one failed. Retried: the job ended without a
    /// result for a system reason (a rank killed by a signal or exited without a result, a node, the
    /// backend or a pool worker lost). Never: a rejection (the same request is refused again), a time limit (the same work
    /// takes as long), an unreadable result (the same build writes it again), and the app's own exception
    /// unless <paramref name="retryOnAppException"/>. Cancellation never reaches here.
    /// </summary>
    public static bool IsRetriable(Exception failure, bool retryOnAppException) => failure switch
    {
        FluxAppException => retryOnAppException,
        FluxJobException job => job.Kind switch
        {
            FluxJobFailureKind.Signaled or FluxJobFailureKind.Exited or FluxJobFailureKind.NodeFailure or FluxJobFailureKind.BackendFailure
                or FluxJobFailureKind.WorkerLost => true,
            _ => false,
        },
        _ => false,
    };

    /// <summary>A failure's message with the earlier attempts' failures summed up, so a log line tells the whole story.</summary>
    public static string WithAttempts(string message, IReadOnlyList<Exception> earlier)
    {
        if (earlier.Count == 0) return message;
        var text = new StringBuilder(message);
        text.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}(attempt {earlier.Count + 1}; earlier attempts failed:");
        foreach (var failure in earlier) text.Append(' ').Append(Describe(failure)).Append(';');
        text.Length--;
        text.Append(')');
        return text.ToString();
    }

    /// <summary>A failure in a few words: <c>Signaled (signal 9) in job ƒ2Qw...</c>, <c>FluxAppException System.IO.IOException</c>.</summary>
    public static string Describe(Exception failure) => failure switch
    {
        FluxJobException { Kind: FluxJobFailureKind.Signaled } job => $"Signaled (signal {job.Signal}) in job {job.JobId?.ToString() ?? "(none)"}",
        FluxJobException { Kind: FluxJobFailureKind.Exited } job => $"Exited (code {job.ExitCode}) in job {job.JobId?.ToString() ?? "(none)"}",
        FluxJobException job => $"{job.Kind} in job {job.JobId?.ToString() ?? "(none)"}",
        FluxAppException app => $"{app.RemoteType} thrown in job {app.JobId?.ToString() ?? "(none)"}",
        _ => failure.GetType().Name,
    };

    /// <summary>
    /// One call that may run more than once. The future hands it each failure before completing
    /// (<see cref="Retrying"/>): a failure worth retrying with retries left starts a wait, then a new
    /// job for the same arguments; any other failure completes the call, carrying the earlier ones.
    /// </summary>
    internal sealed class Attempt
    {
        private readonly CallSubmitter _calls;
        private readonly FluxFuture _future;
        private readonly FluxWriter? _arguments;
        private readonly JobResources _resources;
        private readonly FluxCallOptions? _options;
        private readonly FluxCommand? _command;
        private readonly int _retries;
        private readonly bool _retryOnAppException;
        private readonly CancellationToken _cancellationToken;
        private readonly List<Exception> _earlier = new();

        public Attempt(CallSubmitter calls, FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options,
            FluxCommand? command, int retries, bool retryOnAppException, CancellationToken cancellationToken)
        {
            _calls = calls;
            _future = future;
            _arguments = arguments;
            _resources = resources;
            _options = options;
            _command = command;
            _retries = retries;
            _retryOnAppException = retryOnAppException;
            _cancellationToken = cancellationToken;
        }

        /// <summary>
        /// Called with each failure of the call, before its future completes. True: a new attempt
        /// follows, the future stays pending. False: the failure is final (its earlier failures attached).
        /// </summary>
        public bool Retrying(Exception failure)
        {
            // Attempts run one after another, and each ends once: no two failures arrive together.
            if (!IsRetriable(failure, _retryOnAppException) || _earlier.Count >= _retries
                || _future.CancelRequested || _cancellationToken.IsCancellationRequested || _calls.IsClosed)
            {
                Attach(failure);
                return false;
            }
            _earlier.Add(failure);
            int retry = _earlier.Count;
            TimeSpan delay = Delay(retry);
            var backoff = new CancellationTokenSource();
            // Cancelling the call while it waits ends the wait, and the call, at once.
            _future.SetCancelAction(() => backoff.Cancel());
            _future.RefuseUrgency($"waits {delay.TotalMilliseconds:0} ms to be retried (attempt {retry + 1} of {_retries + 1}): its next job is not submitted yet");
            _future.SetState(FluxJobState.New);
            _future.AddEvent("retry", string.Create(CultureInfo.InvariantCulture,
                $"attempt {retry + 1} of {_retries + 1} in {delay.TotalMilliseconds:0} ms after {Describe(failure)}"));
            if (_future.CancelRequested) backoff.Cancel(); // Cancel() came before the action above was in place
            Task.Delay(delay, backoff.Token).ContinueWith(static (wait, state) =>
            {
                var attempt = (Attempt)state!;
                if (wait.IsCanceled)
                {
                    attempt._future.TrySetCanceled(CancellationToken.None);
                    return;
                }
                try
                {
                    attempt._calls.SubmitAttempt(attempt._future, attempt._arguments, attempt._resources, attempt._options, attempt._command);
                }
                catch (Exception ex)
                {
                    // Nobody awaits this continuation: a submission that throws must still complete the call.
                    var failed = new FluxJobException($"{attempt._future.AppName}: attempt {attempt._earlier.Count + 1} could not be submitted: {ex.Message}",
                        FluxJobFailureKind.BackendFailure, attempt._future.AppName, null, inner: ex);
                    attempt._future.Retry = null;
                    attempt.Attach(failed);
                    attempt._future.TrySetException(failed);
                }
            }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            // The source is not disposed: a late Cancel() may still reach it, and without a timer it holds nothing.
            return true;
        }

        private void Attach(Exception failure)
        {
            if (_earlier.Count == 0) return;
            var earlier = _earlier.ToArray();
            if (failure is FluxJobException job) job.EarlierFailures = earlier;
            else if (failure is FluxAppException app) app.EarlierFailures = earlier;
        }
    }
}
