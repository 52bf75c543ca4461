using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using FluxApps.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FluxApps.Telemetry;

/// <summary>
/// Everything one runtime tells the outside about its calls: log events (<see cref="Log"/>), one activity per call,
/// metrics (<see cref="Instruments"/>) and the runtime's event stream (<see cref="FluxAppsRuntime.WatchEventsAsync"/>).
/// Each call's future reports its submission, job events and outcome here; each output costs nothing while it is
/// off (no listener, logging below its level, no subscriber).
/// </summary>
internal sealed class CallObserver
{
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private Channel<FluxCallEvent>[] _subscribers = [];
    private bool _detached;
    private long _outstanding;
    private TaskCompletionSource? _idle;
    private Func<int> _pendingCount = static () => 0;
    private Func<IEnumerable<(string Pool, int Starting, int Busy, int Idle)>> _poolWorkers = static () => [];

    public CallObserver(ILoggerFactory? loggerFactory, FluxBackend backend)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(Log.Category);
        Backend = backend;
        BackendName = backend == FluxBackend.Flux ? "flux" : "local";
    }

    public ILogger Logger => _logger;

    public FluxBackend Backend { get; }

    /// <summary>The backend as a tag value: <c>flux</c> or <c>local</c>.</summary>
    public string BackendName { get; }

    /// <summary>Connects the observable instruments to the runtime's counts, and starts reporting them.</summary>
    public void Attach(Func<int> pendingCount, Func<IEnumerable<(string Pool, int Starting, int Busy, int Idle)>> poolWorkers)
    {
        _pendingCount = pendingCount;
        _poolWorkers = poolWorkers;
        Instruments.Register(this);
    }

    /// <summary>The runtime is gone: its counts leave the observable instruments and every event stream ends.</summary>
    public void Detach()
    {
        Instruments.Unregister(this);
        Channel<FluxCallEvent>[] subscribers;
        lock (_gate)
        {
            _detached = true;
            subscribers = _subscribers;
            _subscribers = [];
        }
        foreach (var channel in subscribers) channel.Writer.TryComplete();
    }

    public int PendingCount() => _pendingCount();

    public IEnumerable<(string Pool, int Starting, int Busy, int Idle)> PoolWorkers() => _poolWorkers();

    /// <summary>A new subscriber of the event stream: it gets every event from now on, in order, none dropped.</summary>
    public Channel<FluxCallEvent> Subscribe(bool disposed)
    {
        var channel = Channel.CreateUnbounded<FluxCallEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        lock (_gate)
        {
            if (disposed || _detached) channel.Writer.TryComplete();
            else _subscribers = [.. _subscribers, channel];
        }
        return channel;
    }

    /// <summary>A subscriber stopped reading: its events stop.</summary>
    public void Unsubscribe(Channel<FluxCallEvent> channel)
    {
        lock (_gate)
        {
            var rest = new List<Channel<FluxCallEvent>>(_subscribers);
            rest.Remove(channel);
            _subscribers = rest.ToArray();
        }
        channel.Writer.TryComplete();
    }

    /// <summary>
    /// The runtime took a call: from here on its future reports to this observer. Starts the call's activity (when
    /// someone listens to <see cref="FluxAppsTelemetry.ActivitySourceName"/>) and picks the trace context its job carries.
    /// </summary>
    public void Submitted(FluxFuture future, JobResources resources, string? pool)
    {
        future.Observer = this;
        Interlocked.Increment(ref _outstanding);
        if (Instruments.CallsSubmitted.Enabled)
            Instruments.CallsSubmitted.Add(1, new KeyValuePair<string, object?>(Instruments.Tags.App, future.AppName),
                new KeyValuePair<string, object?>(Instruments.Tags.Backend, BackendName));
        var caller = Activity.Current;
        if (Instruments.Source.HasListeners())
        {
            var activity = Instruments.Source.StartActivity(future.AppName, ActivityKind.Client);
            if (activity is not null)
            {
                // The call outlives this synchronous stub call: the caller's own code must not become its child.
                Activity.Current = caller;
                future.Activity = activity;
                if (activity.IsAllDataRequested)
                {
                    activity.SetTag(Instruments.Tags.App, future.AppName);
                    activity.SetTag(Instruments.Tags.Backend, BackendName);
                    activity.SetTag(Instruments.Tags.Cpus, resources.Cpus);
                    activity.SetTag(Instruments.Tags.Gpus, resources.Gpus);
                    activity.SetTag(Instruments.Tags.MpiRanks, resources.MpiRanks);
                    if (resources.Nodes > 0) activity.SetTag(Instruments.Tags.Nodes, resources.Nodes);
                    if (resources.Queue is not null) activity.SetTag(Instruments.Tags.Queue, resources.Queue);
                    if (pool is not null) activity.SetTag(Instruments.Tags.Pool, pool);
                }
            }
        }
        // The job continues the call's trace, or the caller's when nobody listens to FluxApps; none when there is neither.
        var parent = future.Activity ?? caller;
        if (parent is { IdFormat: ActivityIdFormat.W3C, Id: { } id })
        {
            future.TraceParent = id;
            future.TraceState = parent.TraceStateString;
        }
        if (_logger.IsEnabled(LogLevel.Debug))
            Log.CallSubmitted(_logger, future.AppName, resources.ToString(), pool is null ? "" : $", pool {pool}");
        if (HasSubscribers) Publish(new FluxCallEvent(FluxCallEventKind.Submitted, future, future.State, DateTimeOffset.UtcNow));
    }

    /// <summary>An event of the call's job (the future has already taken the state it leads to).</summary>
    public void OnJobEvent(FluxFuture future, FluxJobEvent jobEvent)
    {
        // The rest of a cancelled job's eventlog still arrives on Flux: the call's outcome stays its last word.
        if (future.IsSettled) return;
        try
        {
            switch (jobEvent.Name)
            {
                case "submit":
                    // A pooled call has no job of its own until a worker takes it (CallSubmitted named its pool).
                    if (future.JobId is { } queued && _logger.IsEnabled(LogLevel.Debug)) Log.CallQueued(_logger, future.AppName, queued.ToString());
                    break;
                case "start":
                    if (_logger.IsEnabled(LogLevel.Debug)) Log.CallStarted(_logger, future.AppName, future.JobId?.ToString());
                    if (Instruments.QueueWait.Enabled && Since(future, "submit", jobEvent) is double wait)
                        Instruments.QueueWait.Record(wait, AppTag(future));
                    break;
                case "finish":
                    if (Instruments.RunTime.Enabled && Since(future, "start", jobEvent) is double run)
                        Instruments.RunTime.Record(run, AppTag(future));
                    break;
                case "retry":
                    if (_logger.IsEnabled(LogLevel.Warning)) Log.CallRetrying(_logger, future.AppName, future.JobId?.ToString(), jobEvent.Context);
                    break;
            }
            if (future.Activity is { IsAllDataRequested: true } activity)
            {
                activity.AddEvent(new ActivityEvent(jobEvent.Name, jobEvent.Timestamp, jobEvent.Context.Length == 0 ? default
                    : new ActivityTagsCollection { [Instruments.Tags.EventContext] = jobEvent.Context }));
            }
            if (HasSubscribers) Publish(new FluxCallEvent(FluxCallEventKind.JobEvent, future, future.State, jobEvent.Timestamp, jobEvent));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A logger or listener that throws must not break the job's bookkeeping.
        }
    }

    /// <summary>The call's outcome, reported just before its future completes (so an awaiter finds it recorded).</summary>
    public void Completed(FluxFuture future, Exception? error, bool canceled)
    {
        if (Interlocked.Decrement(ref _outstanding) == 0) SignalIdle();
        try
        {
            var outcome = canceled ? FluxCallOutcome.Canceled : error is null ? FluxCallOutcome.Succeeded : FluxCallOutcome.Failed;
            string? failureKind = error is null ? null : FailureKind(error);
            switch (outcome)
            {
                case FluxCallOutcome.Succeeded:
                    if (_logger.IsEnabled(LogLevel.Debug))
                        Log.CallSucceeded(_logger, future.AppName, future.JobId?.ToString(), future.Attempts, future.FromCache ? " (from the checkpoint)" : "");
                    break;
                case FluxCallOutcome.Canceled:
                    if (_logger.IsEnabled(LogLevel.Debug)) Log.CallCanceled(_logger, future.AppName, future.JobId?.ToString());
                    break;
                default:
                    if (_logger.IsEnabled(LogLevel.Warning)) Log.CallFailed(_logger, future.AppName, future.JobId?.ToString(), failureKind!, error!.Message, error);
                    break;
            }
            if (Instruments.CallsCompleted.Enabled)
                Instruments.CallsCompleted.Add(1, AppTag(future), new KeyValuePair<string, object?>(Instruments.Tags.Outcome, OutcomeName(outcome)));
            if (failureKind is not null && Instruments.CallsFailed.Enabled)
                Instruments.CallsFailed.Add(1, AppTag(future), new KeyValuePair<string, object?>(Instruments.Tags.ErrorType, failureKind));
            if (future.Activity is { } activity)
            {
                future.Activity = null;
                if (activity.IsAllDataRequested)
                {
                    if (future.JobId is { } jobId) activity.SetTag(Instruments.Tags.JobId, jobId.ToString());
                    activity.SetTag(Instruments.Tags.Attempts, future.Attempts);
                    activity.SetTag(Instruments.Tags.Outcome, OutcomeName(outcome));
                    if (future.FromCache) activity.SetTag(Instruments.Tags.FromCache, true);
                    if (Between(future, "submit", "start") is double wait) activity.SetTag(Instruments.Tags.QueueWait, wait);
                    if (Between(future, "start", "finish") is double run) activity.SetTag(Instruments.Tags.RunTime, run);
                    if (failureKind is not null)
                    {
                        activity.SetTag(Instruments.Tags.ErrorType, failureKind);
                        activity.SetStatus(ActivityStatusCode.Error, error!.Message);
                    }
                    else if (outcome == FluxCallOutcome.Succeeded)
                    {
                        activity.SetStatus(ActivityStatusCode.Ok);
                    }
                }
                activity.Stop();
            }
            if (HasSubscribers)
                Publish(new FluxCallEvent(FluxCallEventKind.Completed, future, FluxJobState.Inactive, DateTimeOffset.UtcNow, outcome: outcome, exception: error));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // As above: the future completes whatever a logger or listener does.
        }
    }

    /// <summary>Completes once no call taken by the runtime is without its outcome (at once when none is).</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Interlocked.Read(ref _outstanding) == 0) return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    private void SignalIdle()
    {
        // Checked again under the lock: a call submitted meanwhile keeps the waiters waiting for the next time.
        TaskCompletionSource? idle;
        lock (_gate)
        {
            if (Interlocked.Read(ref _outstanding) != 0) return;
            idle = _idle;
            _idle = null;
        }
        idle?.TrySetResult();
    }

    private bool HasSubscribers => Volatile.Read(ref _subscribers).Length > 0;

    private void Publish(FluxCallEvent callEvent)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        foreach (var channel in subscribers) channel.Writer.TryWrite(callEvent);
    }

    private static KeyValuePair<string, object?> AppTag(FluxFuture future) => new(Instruments.Tags.App, future.AppName);

    private static string OutcomeName(FluxCallOutcome outcome) => outcome switch
    {
        FluxCallOutcome.Succeeded => "succeeded",
        FluxCallOutcome.Canceled => "canceled",
        _ => "failed",
    };

    /// <summary><c>AppException</c> when the app threw; the job failure's kind otherwise.</summary>
    private static string FailureKind(Exception error) => error switch
    {
        FluxAppException => "AppException",
        FluxJobException job => job.Kind.ToString(),
        _ => error.GetType().Name,
    };

    /// <summary>Seconds from the attempt's last <paramref name="from"/> event to <paramref name="to"/>, or null.</summary>
    private static double? Since(FluxFuture future, string from, FluxJobEvent to) =>
        future.LastEventTime(from) is { } start && to.Timestamp >= start ? (to.Timestamp - start).TotalSeconds : null;

    /// <summary>Seconds between the last <paramref name="from"/> and the last <paramref name="to"/> events, or null.</summary>
    private static double? Between(FluxFuture future, string from, string to) =>
        future.LastEventTime(from) is { } start && future.LastEventTime(to) is { } end && end >= start ? (end - start).TotalSeconds : null;

    /// <summary>
    /// A <see cref="FluxFuture.JobEvent"/> handler threw: Warning in the call's runtime log (when the call has one) and
    /// <c>fluxapps.handler.errors</c>; the call goes on. Static, so a future that reports to no runtime is covered too.
    /// </summary>
    public static void HandlerFailed(CallObserver? observer, FluxFuture future, FluxJobEvent jobEvent, Exception exception)
    {
        try
        {
            if (Instruments.HandlerErrors.Enabled)
                Instruments.HandlerErrors.Add(1, AppTag(future), new KeyValuePair<string, object?>(Instruments.Tags.EventName, jobEvent.Name));
            if (observer is not null && observer._logger.IsEnabled(LogLevel.Warning))
                Log.JobEventHandlerFailed(observer._logger, future.AppName, future.JobId?.ToString(), jobEvent.Name, exception.GetType().FullName ?? exception.GetType().Name, exception);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A logger that throws as well: the call still goes on.
        }
    }

    /// <summary>Pool worker up: Information.</summary>
    public void PoolWorkerUp(string pool, long worker, FluxJobId? job, int pid) =>
        Log.PoolWorkerUp(_logger, pool, worker, job?.ToString(), pid);

    /// <summary>Pool worker down: Information, or Warning when it took running calls with it.</summary>
    public void PoolWorkerDown(string pool, long worker, FluxJobId? job, int runningCalls, string how)
    {
        if (runningCalls > 0) Log.PoolWorkerLost(_logger, pool, worker, job?.ToString(), runningCalls, how);
        else Log.PoolWorkerDown(_logger, pool, worker, job?.ToString(), how);
    }
}
