using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Runtime;
using FluxApps.Serialization;

namespace FluxApps;

/// <summary>
/// The pending outcome of one app call: awaitable, and a handle on the job that runs it
/// (job id, state, events, cancellation). Completes exactly once, with a result or an exception.
/// </summary>
public abstract class FluxFuture
{
    private readonly object _gate = new();
    private readonly List<FluxJobEvent> _events = new();
    private readonly TaskCompletionSource<FluxJobId> _submitted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EventHandler<FluxJobEvent>? _jobEvent;
    private Action? _cancel;
    private Func<int, Task>? _setUrgency;
    private FluxJobId? _jobId;
    private volatile FluxJobState _state = FluxJobState.New;
    private volatile bool _cancelRequested;
    private int _attempts;
    private int _settled;

    private protected FluxFuture(FluxAppDescriptor app, Task task)
    {
        App = app;
        Task = task;
    }

    /// <summary>The task that completes with the call's outcome.</summary>
    private protected Task Task { get; }

    internal FluxAppDescriptor App { get; }

    /// <summary>Name of the app, e.g. <c>Physics.Simulate</c>.</summary>
    public string AppName => App.DisplayName;

    /// <summary>
    /// How many attempts (jobs) the call has started: 1 for a call that ran once, more when it was
    /// retried (<see cref="FluxAppAttribute.Retries"/>), 0 when it was served from the checkpoint
    /// (<see cref="FromCache"/>) or cancelled before it started.
    /// </summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>
    /// True when the result came from the checkpoint directory (<see cref="FluxAppAttribute.Cache"/>), or
    /// from an identical call already running in this process, without a job of its own: then
    /// <see cref="Attempts"/> is 0, <see cref="JobId"/> stays null and <see cref="Submitted"/> faults
    /// with <see cref="InvalidOperationException"/>.
    /// </summary>
    public bool FromCache { get; private set; }

    /// <summary>
    /// The job id of the current (or last) attempt, once the backend has assigned one (null before, and
    /// for a result served from the checkpoint). A retried call gets a new job, and this id follows it.
    /// </summary>
    public FluxJobId? JobId => _jobId;

    /// <summary>Completes with the first attempt's job id once it is submitted (faults if submission fails).</summary>
    public Task<FluxJobId> Submitted => _submitted.Task;

    /// <summary>The job's current state (RFC 21).</summary>
    public FluxJobState State => _state;

    /// <summary>True once the call has its outcome.</summary>
    public bool IsCompleted => Task.IsCompleted;

    /// <summary>The job's events so far (submit, alloc, start, finish, exception, clean, ...).</summary>
    public IReadOnlyList<FluxJobEvent> Events
    {
        get { lock (_gate) return _events.ToArray(); }
    }

    /// <summary>
    /// Raised for each job event as it happens, on a backend thread; handlers must be quick.
    /// Events that happened before subscription are replayed to the new handler. A handler that throws does not
    /// disturb the call: its exception is logged at Warning (<see cref="FluxAppsOptions.LoggerFactory"/>) and counted
    /// in the <c>fluxapps.handler.errors</c> metric, and the other handlers still get the event.
    /// </summary>
    public event EventHandler<FluxJobEvent>? JobEvent
    {
        add
        {
            FluxJobEvent[] past;
            lock (_gate)
            {
                _jobEvent += value;
                past = _events.ToArray();
            }
            if (value is null) return;
            foreach (var e in past) InvokeGuarded(value, e);
        }
        remove
        {
            lock (_gate) _jobEvent -= value;
        }
    }

    /// <summary>The outcome as a task.</summary>
    public Task AsTask() => Task;

    /// <summary>Awaits the outcome.</summary>
    public TaskAwaiter GetAwaiter() => Task.GetAwaiter();

    /// <summary>Awaits the outcome without (or with) the captured context.</summary>
    public ConfiguredTaskAwaitable ConfigureAwait(bool continueOnCapturedContext) => Task.ConfigureAwait(continueOnCapturedContext);

    /// <summary>
    /// Cancels the job: removes it from the queue or kills its running tasks. The future then
    /// completes with <see cref="OperationCanceledException"/> (unless it already completed).
    /// </summary>
    public void Cancel()
    {
        // Remembered, so a retry about to start (or a call about to be submitted) sees it.
        _cancelRequested = true;
        Action? cancel;
        lock (_gate) cancel = _cancel;
        if (cancel is not null) cancel();
        else TrySetCanceled(CancellationToken.None);
    }

    /// <summary>
    /// Changes the urgency (0-31) of the job while it waits for resources, as <c>flux job urgency</c> does:
    /// 0 holds it (it will not start), more releases a held job or moves it ahead of (or behind) the
    /// jobs waiting with it. A job submitted with <c>Urgency = 0</c> waits until this raises it.
    /// </summary>
    /// <param name="urgency">The new urgency: 0 (hold) to 31; 16 is the default.</param>
    /// <returns>A task that completes once the backend has the new urgency (on Flux, once the job manager took it).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="urgency"/> is outside 0-31.</exception>
    /// <exception cref="InvalidOperationException">
    /// The job is past waiting: it has its resources (running or ending) or is over, or is not submitted yet; or the
    /// call has no job whose wait an urgency orders (a pooled call, one served by an identical running call, one that
    /// can never run, one waiting to be retried). Flux refuses urgency changes once resources are allocated, and so
    /// does the local backend; the message names the state or the reason.
    /// </exception>
    public Task SetUrgencyAsync(int urgency)
    {
        if (urgency < 0 || urgency > 31)
            throw new ArgumentOutOfRangeException(nameof(urgency), urgency, $"Urgency = {urgency} is out of range: use 0 (hold) to 31.");
        if (IsCompleted)
            return Task.FromException(new InvalidOperationException(
                $"{AppName} (job {JobId?.ToString() ?? "none"}) is {FluxJobState.Inactive}: the call is over, so its urgency cannot change."));
        Func<int, Task>? set;
        lock (_gate) set = _setUrgency;
        if (set is null)
            return Task.FromException(new InvalidOperationException(
                $"{AppName} is {State}: the job is not submitted yet, so its urgency cannot change."));
        return set(urgency);
    }

    /// <summary>
    /// For a call that has no job whose wait an urgency could order (a pooled call, one served by an identical call,
    /// one that can never run, one between attempts): <see cref="SetUrgencyAsync"/> fails with <paramref name="why"/>.
    /// </summary>
    internal void RefuseUrgency(string why) =>
        SetUrgencyHandler(_ => Task.FromException(new InvalidOperationException($"{AppName} {why}, so its urgency cannot change.")));

    /// <summary>Set by the backend that queued the job: how <see cref="SetUrgencyAsync"/> reaches it.</summary>
    internal void SetUrgencyHandler(Func<int, Task> setUrgency)
    {
        lock (_gate) _setUrgency = setUrgency;
    }

    internal void SetCancelAction(Action cancel)
    {
        lock (_gate) _cancel = cancel;
    }

    /// <summary>True once <see cref="Cancel"/> was called.</summary>
    internal bool CancelRequested => _cancelRequested;

    /// <summary>Set by the runtime for a call that may be retried: it sees each failure before the future does.</summary>
    internal RetryPolicy.Attempt? Retry { get; set; }

    /// <summary>Set by the runtime for a cached call: it gets the result bytes of a success before the future completes.</summary>
    internal Action<ReadOnlyMemory<byte>>? ResultStored { get; set; }

    /// <summary>Set by the runtime as it takes the call: where its job events and outcome are reported (logs, traces, metrics, event stream).</summary>
    internal Telemetry.CallObserver? Observer { get; set; }

    /// <summary>The call's activity while it runs, when someone listens to FluxApps' activity source.</summary>
    internal System.Diagnostics.Activity? Activity { get; set; }

    /// <summary>The W3C trace context the call's job continues (<c>TRACEPARENT</c>), or null when there is no trace.</summary>
    internal string? TraceParent { get; set; }

    /// <summary>The trace state that goes with <see cref="TraceParent"/> (<c>TRACESTATE</c>), or null.</summary>
    internal string? TraceState { get; set; }

    /// <summary>When the last event of that name happened (e.g. this attempt's <c>submit</c>), or null.</summary>
    internal DateTimeOffset? LastEventTime(string name)
    {
        lock (_gate)
        {
            for (int i = _events.Count - 1; i >= 0; i--)
            {
                if (_events[i].Name == name) return _events[i].Timestamp;
            }
        }
        return null;
    }

    /// <summary>Counts an attempt as it is handed to the backend.</summary>
    internal void CountAttempt() => Interlocked.Increment(ref _attempts);

    /// <summary>
    /// Completes with a result served from the checkpoint or an identical call: no job ran. False, and
    /// the future untouched, when the bytes do not decode (the caller then runs the call).
    /// </summary>
    internal bool TrySetCachedResult(byte[] result, string where)
    {
        FromCache = true; // before the result, so an awaiter that resumes sees it
        _state = FluxJobState.Inactive;
        AddEvent("cache-hit", where);
        try
        {
            SetResult(new FluxReader(result));
        }
        catch (Exception) when (!Task.IsCompleted)
        {
            FromCache = false;
            _state = FluxJobState.New;
            AddEvent("cache-unreadable", where);
            return false;
        }
        _submitted.TrySetException(new InvalidOperationException($"{AppName}: the result was served from {where}; no job was submitted."));
        _ = _submitted.Task.Exception; // observed: nobody needs to await it
        return true;
    }

    /// <summary>Hands a decoded result's bytes to <see cref="ResultStored"/>; a store that fails must not fail the call.</summary>
    private protected void StoreResult(FluxReader? result, int start)
    {
        var store = ResultStored;
        if (store is null) return;
        store(result is null ? ReadOnlyMemory<byte>.Empty : result.Consumed(start));
    }

    internal void SetJobId(FluxJobId id)
    {
        _jobId = id;
        _submitted.TrySetResult(id);
    }

    internal void SetState(FluxJobState state) => _state = state;

    internal void AddEvent(string name, string context = "", DateTimeOffset? timestamp = null)
    {
        var e = new FluxJobEvent(name, timestamp ?? DateTimeOffset.UtcNow, context);
        EventHandler<FluxJobEvent>? handler;
        lock (_gate)
        {
            _events.Add(e);
            handler = _jobEvent;
        }
        if (handler is not null) InvokeHandlers(handler, e);
        Observer?.OnJobEvent(this, e);
    }

    /// <summary>
    /// Calls each handler in turn. A user's handler runs on a backend thread (the local reaper, the Flux reactor, a
    /// pool's reader) in the middle of the call's bookkeeping: one that throws must not end the process, leave the call
    /// without its outcome, or keep the other handlers from their event. Its exception is logged and counted instead.
    /// </summary>
    private void InvokeHandlers(EventHandler<FluxJobEvent> handler, FluxJobEvent e)
    {
        foreach (var single in Delegate.EnumerateInvocationList(handler)) InvokeGuarded(single, e);
    }

    private void InvokeGuarded(EventHandler<FluxJobEvent> handler, FluxJobEvent e)
    {
        try
        {
            handler(this, e);
        }
        catch (Exception ex)
        {
            Telemetry.CallObserver.HandlerFailed(Observer, this, e, ex);
        }
    }

    /// <summary>Completes from rank 0's result payload.</summary>
    internal abstract void SetResult(FluxReader? result);

    /// <summary>Completes with a value the caller side computed (command apps).</summary>
    internal virtual bool TrySetValue(object value) =>
        throw new InvalidOperationException($"{AppName} does not return a {value.GetType().Name}.");

    internal bool TrySetException(Exception exception)
    {
        // A retried call's failure starts its next attempt instead (or gets the earlier failures attached).
        if (Retry is { } retry && retry.Retrying(exception)) return false;
        _submitted.TrySetException(exception);
        _state = FluxJobState.Inactive;
        return Settle(exception, canceled: false) && TrySetExceptionCore(exception);
    }

    internal bool TrySetCanceled(CancellationToken token)
    {
        _submitted.TrySetCanceled(token);
        _state = FluxJobState.Inactive;
        if (!Settle(null, canceled: true)) return false;
        return TrySetCanceledCore(token);
    }

    /// <summary>True once the call's outcome is decided (its task completes right after).</summary>
    internal bool IsSettled => Volatile.Read(ref _settled) != 0;

    /// <summary>
    /// Claims the call's one completion and reports it to the observer, before the task completes so that an awaiter
    /// finds its activity ended and its metrics recorded; false when the call already has its outcome.
    /// </summary>
    private protected bool Settle(Exception? error, bool canceled)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0) return false;
        Observer?.Completed(this, error, canceled);
        return true;
    }

    private protected abstract bool TrySetExceptionCore(Exception exception);

    private protected abstract bool TrySetCanceledCore(CancellationToken token);

    /// <inheritdoc />
    public override string ToString() => $"{AppName} job {JobId?.ToString() ?? "(unsubmitted)"} {State}";
}

/// <summary>The pending result of an app call that returns <typeparamref name="T"/>.</summary>
public sealed class FluxFuture<T> : FluxFuture
{
    private readonly TaskCompletionSource<T> _completion;
    private readonly FluxResultReader<T> _readResult;

    internal FluxFuture(FluxAppDescriptor app, FluxResultReader<T> readResult)
        : this(app, readResult, new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously)) { }

    private FluxFuture(FluxAppDescriptor app, FluxResultReader<T> readResult, TaskCompletionSource<T> completion)
        : base(app, completion.Task)
    {
        _completion = completion;
        _readResult = readResult;
    }

    /// <summary>The outcome as a task.</summary>
    public new Task<T> AsTask() => _completion.Task;

    /// <summary>Awaits the result.</summary>
    public new TaskAwaiter<T> GetAwaiter() => _completion.Task.GetAwaiter();

    /// <summary>Awaits the result without (or with) the captured context.</summary>
    public new ConfiguredTaskAwaitable<T> ConfigureAwait(bool continueOnCapturedContext) => _completion.Task.ConfigureAwait(continueOnCapturedContext);

    /// <summary>Converts to the task of its result.</summary>
    public static implicit operator Task<T>(FluxFuture<T> future) => future.AsTask();

    internal override void SetResult(FluxReader? result)
    {
        if (result is null) throw new InvalidOperationException($"{AppName} returns a value but its job wrote none.");
        int start = result.Position;
        T value = _readResult(result);
        result.CompleteResult();
        StoreResult(result, start); // only a result that decodes is worth keeping
        if (Settle(null, canceled: false)) _completion.TrySetResult(value);
    }

    internal override bool TrySetValue(object value)
    {
        T typed = (T)value;
        return Settle(null, canceled: false) && _completion.TrySetResult(typed);
    }

    private protected override bool TrySetExceptionCore(Exception exception) => _completion.TrySetException(exception);

    private protected override bool TrySetCanceledCore(CancellationToken token) => _completion.TrySetCanceled(token);
}

/// <summary>A future for apps without a result (void, Task, ValueTask).</summary>
internal sealed class FluxVoidFuture : FluxFuture
{
    private readonly TaskCompletionSource _completion;

    internal FluxVoidFuture(FluxAppDescriptor app) : this(app, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)) { }

    private FluxVoidFuture(FluxAppDescriptor app, TaskCompletionSource completion) : base(app, completion.Task) => _completion = completion;

    internal override void SetResult(FluxReader? result)
    {
        int start = result?.Position ?? 0;
        result?.CompleteResult();
        StoreResult(result, start);
        if (Settle(null, canceled: false)) _completion.TrySetResult();
    }

    private protected override bool TrySetExceptionCore(Exception exception) => _completion.TrySetException(exception);

    private protected override bool TrySetCanceledCore(CancellationToken token) => _completion.TrySetCanceled(token);
}
