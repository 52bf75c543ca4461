using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Backends;
using FluxApps.Pools;
using FluxApps.Serialization;
using FluxApps.Telemetry;

namespace FluxApps.Runtime;

/// <summary>
/// The calls of one runtime, from the stub's submission to the future's completion: resolves a call's retries
/// and caching, serves it from the checkpoint when it can (<see cref="CheckpointStore"/>), prepares each attempt
/// (its call directory, payload and <see cref="JobRequest"/>), hands it to the backend, and when the backend
/// reports the outcome, removes the call's files and settles the future (<see cref="JobOutcomeReader"/>).
/// Retries (<see cref="RetryPolicy.Attempt"/>) come back through <see cref="SubmitAttempt"/>. A pooled call's attempts go
/// to its pool (<see cref="PoolSet"/>) instead, which settles the future itself.
/// </summary>
internal sealed class CallSubmitter
{
    private readonly FluxAppsOptions _options;
    private readonly RunDirectories _directories;
    private readonly IJobBackend _backend;
    private readonly PoolSet _pools;
    private readonly CallObserver _observer;
    private readonly ConcurrentDictionary<FluxFuture, JobRequest> _pending = new();
    private CheckpointStore? _checkpoints;
    private int _closed;

    public CallSubmitter(FluxAppsOptions options, RunDirectories directories, IJobBackend backend, PoolSet pools, CallObserver observer)
    {
        _options = options;
        _directories = directories;
        _backend = backend;
        _pools = pools;
        _observer = observer;
    }

    /// <summary>Number of calls submitted and not yet completed.</summary>
    public int PendingCount => _pending.Count + _pools.PendingCount;

    /// <summary>True once the runtime is being disposed: no new call or attempt is submitted.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Stops taking calls; true the first time (the caller then shuts the rest down).</summary>
    public bool Close() => Interlocked.Exchange(ref _closed, 1) == 0;

    /// <summary>Submits one call. Called by <see cref="FluxAppInvoker"/> through the runtime.</summary>
    /// <exception cref="ObjectDisposedException">The runtime was disposed.</exception>
    /// <exception cref="ArgumentException">The call's retries or caching are invalid; nothing was submitted.</exception>
    public void Submit(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, CancellationToken cancellationToken,
        FluxCommand? command)
    {
        if (IsClosed)
            throw new ObjectDisposedException(nameof(FluxAppsRuntime), "This FluxAppsRuntime was disposed; start a new one.");
        if (cancellationToken.IsCancellationRequested)
        {
            future.TrySetCanceled(cancellationToken);
            return;
        }
        int retries = RetryPolicy.ResolveRetries(future.App, options);
        bool cache = CheckpointStore.Resolve(future.App, options, command is not null);
        string? pool = PoolSettings.PoolOf(future.App, options);
        if (pool is not null) _pools.Get(pool).Settings.CheckCall(future.App, resources, options, command is not null);
        _observer.Submitted(future, resources, command is null ? pool : null);
        if (cancellationToken.CanBeCanceled)
        {
            // For the whole call: every attempt, the waits between them, or the identical call it waits for.
            var registration = cancellationToken.Register(static state => ((FluxFuture)state!).Cancel(), future);
            future.AsTask().ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        try
        {
            StartCall(future, arguments, resources, options, command, retries, cache, cancellationToken);
        }
        catch (Exception ex)
        {
            // The stub's caller gets the exception; the future, which it never sees, still ends (and with it the call's
            // activity and its place among the runtime's outstanding calls).
            future.Retry = null;
            future.TrySetException(ex);
            throw;
        }
    }

    /// <summary>The store of cached results, opened on first use.</summary>
    private CheckpointStore Checkpoints
    {
        get
        {
            // One store per runtime, even when its first cached calls race: it is what makes identical calls share a job.
            if (Volatile.Read(ref _checkpoints) is { } store) return store;
            Interlocked.CompareExchange(ref _checkpoints, new CheckpointStore(CheckpointStore.DirectoryFor(_options)), null);
            return _checkpoints!;
        }
    }

    private void StartCall(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, FluxCommand? command,
        int retries, bool cache, CancellationToken cancellationToken)
    {
        if (cache && arguments is not null && Checkpoints.TryServe(future, arguments.WrittenSpan,
                () => StartCall(future, arguments, resources, options, command, retries, cache, cancellationToken)))
            return;
        if (retries > 0)
        {
            future.Retry = new RetryPolicy.Attempt(this, future, arguments, resources, options, command, retries,
                future.App.RetryOnAppException, cancellationToken);
        }
        SubmitAttempt(future, arguments, resources, options, command);
    }

    /// <summary>Submits one attempt of a call as a new job (a retried call makes several).</summary>
    public void SubmitAttempt(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, FluxCommand? command)
    {
        // Cancelled or disposed before (or while waiting for) this attempt: no job.
        if (future.IsCompleted || future.CancelRequested || IsClosed)
        {
            future.TrySetCanceled(CancellationToken.None);
            return;
        }
        future.CountAttempt();
        if (command is null && arguments is not null && PoolSettings.PoolOf(future.App, options) is { } poolName)
        {
            // Kept files of a pooled call: a call directory like a job's, which the worker command line can rerun by hand.
            string? keptDirectory = options?.KeepFiles ?? _options.KeepJobFiles ? _directories.NextCall().Directory : null;
            _pools.Get(poolName).Submit(future, arguments.WrittenSpan, resources, keptDirectory);
            return;
        }
        var (call, jobDir) = _directories.NextCall();
        var request = JobRequest.ForCall(future, resources, options, command, jobDir, call, TraceContext.AddTo(options?.Environment, future));
        bool keep = options?.KeepFiles ?? _options.KeepJobFiles;
        request.Completed = (job, outcome) => Complete(job, outcome, keep);
        _pending[future] = request;
        try
        {
            Directory.CreateDirectory(jobDir);
            if (arguments is not null) Payload.WriteArguments(Path.Combine(jobDir, Payload.ArgumentsFile), future.App, arguments.WrittenSpan);
        }
        catch (Exception ex)
        {
            Complete(request, new JobOutcome.Failed(new FluxJobException(
                $"{future.AppName}: could not write the call's payload to {jobDir}: {ex.Message}", FluxJobFailureKind.BackendFailure,
                future.AppName, null, inner: ex)), keep);
            return;
        }
        future.SetCancelAction(() => _backend.Cancel(request));
        _backend.Submit(request);
        // Cancel() that came before its action was in place: the job just submitted goes too.
        if (future.CancelRequested) _backend.Cancel(request);
    }

    /// <summary>The backend's report of a job's end (once per job): read its files, remove them, settle the future.</summary>
    private void Complete(JobRequest job, JobOutcome outcome, bool keepFiles)
    {
        var future = job.Future;
        FileSystemStall.Wait();
        Action settle = JobOutcomeReader.Read(job, outcome);
        // Files go before the future completes, so a caller that awaited it finds them gone.
        future.SetState(FluxJobState.Inactive);
        _pending.TryRemove(future, out _);
        if (!keepFiles) RunDirectories.TryDelete(job.JobDirectory);
        JobOutcomeReader.Settle(job, settle);
    }

    /// <summary>Asks the backend to cancel every pending call (on disposal, before the backend stops).</summary>
    public void CancelPending()
    {
        foreach (var request in _pending.Values) _backend.Cancel(request);
    }

    /// <summary>Completes as cancelled every call still pending (on disposal, once the backend has stopped).</summary>
    public void SettlePendingAsCancelled()
    {
        foreach (var request in _pending.Values) request.Future.TrySetCanceled(CancellationToken.None);
    }
}
