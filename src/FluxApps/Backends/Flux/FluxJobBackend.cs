using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Runtime;


namespace FluxApps.Backends.Flux;

/// <summary>
/// The Flux backend: each call is a Flux job submitted through libflux-core. One reactor thread
/// (<see cref="FluxConnection"/>) owns the handle and serves every job: it submits jobspecs, watches
/// each job's eventlog, reports events and states to the future as they happen, and completes the
/// job from its eventlog (finish status, exception events). Cancelling raises Flux's cancel
/// exception on the job. When the connection breaks, every pending job fails within moments and
/// later submissions fail at once.
/// </summary>
internal sealed class FluxJobBackend : IJobBackend
{
    private const string CancelReason = "canceled by FluxApps";

    private readonly FluxSession _session;
    private readonly WorkerCommand _worker;
    private readonly IReadOnlyDictionary<string, string?>? _shellOptions;
    private readonly ConcurrentDictionary<JobRequest, FluxJob> _jobs = new();
    private readonly ConditionalWeakTable<JobRequest, JobRequest> _cancelledBeforeSubmit = new();
    // Reactor thread only:
    private readonly HashSet<FluxJob> _live = new();
    private readonly HashSet<UrgencyChange> _urgencyChanges = new();
    private int _outstandingCancels;
    private TaskCompletionSource? _drained;
    private int _disposed;
    private int _reportsInFlight;
    private volatile FluxPoolTransport? _poolTransport;

    // The instance owner's jobs go pre-signed with mechanism "none" (what libflux itself does for the
    // owner): libflux-core built without flux-security leaks the J it signs on every submit
    // (submit.c never frees it), about the jobspec's size per job. Guests keep libflux's own signing.
    private readonly uint? _presignAs;

    /// <summary>
    /// A backend on an open session (it owns the session from here on), starting <paramref name="worker"/> for app
    /// calls, with the runtime's job shell options (<see cref="FluxAppsOptions.FluxShellOptions"/>) under each call's.
    /// </summary>
    public FluxJobBackend(FluxSession session, WorkerCommand worker, IReadOnlyDictionary<string, string?>? shellOptions)
    {
        _session = session;
        _worker = worker;
        _shellOptions = shellOptions;
        uint uid = Errno.getuid();
        _presignAs = session.Connection.OwnerUserId == uid ? uid : null;
        session.Connection.Closing = OnClosing;
        if (session.Instance is { } instance)
        {
            _ = instance.Exited.ContinueWith(t =>
                    session.Connection.Fail($"lost the connection to the Flux instance at {session.Connection.Uri}: the private Flux instance ({instance.Command}) exited with code {t.Result}"),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    public string Description => _session.Description;

    public string? InstanceUri => _session.Connection.Uri;

    /// <summary>
    /// One worker per node, holding the cores of the instance's smallest node (its resource set, <c>resource.R</c>: this
    /// client's machine may be a login node unlike the compute nodes); where the set cannot be read, one per broker with
    /// as many cores as this machine has.
    /// </summary>
    public (int MaxWorkers, int CpusPerWorker) DefaultPoolShape =>
        _session.Connection.Resources is { } resources
            ? (resources.Nodes, resources.CoresPerNode)
            : (int.TryParse(_session.Connection.Size, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int brokers) && brokers > 0 ? brokers : 1,
                Environment.ProcessorCount);

    /// <summary>Pools reach their workers through Flux messaging: workers may run on any node of the instance.</summary>
    public Pools.IPoolTransport CreatePoolTransport(string runDirectory)
    {
        var transport = new FluxPoolTransport(_session.Connection);
        _poolTransport = transport;
        return transport;
    }

    /// <summary>The connection (for tests and diagnostics).</summary>
    internal FluxConnection Connection => _session.Connection;

    /// <summary>The private instance this backend started, or null when it connected to an existing one.</summary>
    internal FluxInstance? Instance => _session.Instance;

    /// <summary>The jobspec a call becomes (public to the tests, which validate it against RFC 25's schema).</summary>
    internal string BuildJobspec(JobRequest job) => BuildJobspec(job, _worker, _shellOptions, Environment.GetEnvironmentVariables());

    /// <summary>
    /// The jobspec a call becomes on a backend that starts <paramref name="worker"/> with the runtime's job shell
    /// options <paramref name="runtimeShellOptions"/>, the job inheriting <paramref name="callerEnvironment"/>
    /// (this backend's, and a dry run's: <see cref="FluxDryRun"/>).
    /// </summary>
    internal static string BuildJobspec(JobRequest job, WorkerCommand worker, IReadOnlyDictionary<string, string?>? runtimeShellOptions,
        System.Collections.IDictionary callerEnvironment)
    {
        var shell = ShellOptions.ForJob(job.Resources.MpiRanks, runtimeShellOptions, job.ShellOptions);
        var env = Jobspec.ComposeEnvironment(callerEnvironment, job.Environment, job.JobDirectory, job.Command?.Environment);
        return Jobspec.Build(new JobspecInput(job.Resources, job.TaskCommand(worker), env, job.WorkingDirectory)
        {
            StdoutPath = job.StdoutPath,
            StderrPath = job.StderrPath,
            ShellOptions = shell,
        });
    }

    public void Submit(JobRequest job)
    {
        var fj = new FluxJob(this, job);
        string? failure = _session.Connection.Failure;
        if (failure is not null)
        {
            Complete(fj, BackendFailure(fj, failure));
            return;
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            Complete(fj, new JobOutcome.Cancelled());
            return;
        }
        string jobspec;
        try
        {
            jobspec = BuildJobspec(job);
        }
        catch (ArgumentException ex)
        {
            Complete(fj, new JobOutcome.Failed(new FluxJobException(
                $"{job.App.DisplayName}: its Flux jobspec could not be built: {ex.Message}", FluxJobFailureKind.Rejected, job.App.DisplayName, null, inner: ex)));
            return;
        }
        _jobs[job] = fj;
        job.Future.SetUrgencyHandler(urgency => SetUrgency(fj, urgency));
        if (_cancelledBeforeSubmit.TryGetValue(job, out _)) fj.CancelRequested = true;
        if (!_session.Connection.Post(() => SubmitOnReactor(fj, jobspec), reason => Complete(fj, BackendFailure(fj, reason))))
        {
            string? why = _session.Connection.Failure;
            Complete(fj, why is not null ? BackendFailure(fj, why) : new JobOutcome.Cancelled());
        }
    }

    public void Cancel(JobRequest job)
    {
        if (!_jobs.TryGetValue(job, out var fj))
        {
            // Not submitted yet (the token fired between the runtime's checks and Submit): Submit drops it.
            _cancelledBeforeSubmit.AddOrUpdate(job, job);
            if (!_jobs.TryGetValue(job, out fj)) return;
        }
        if (fj.IsCompleted) return;
        fj.CancelRequested = true;
        if (!_session.Connection.Post(() => CancelOnReactor(fj)))
        {
            // Closed: the job is failed (broken connection) or cancelled (disposal) by OnClosing.
        }
    }

    /// <summary>Changes the job's urgency through the job manager (<c>flux job urgency</c>), on the reactor thread.</summary>
    private Task SetUrgency(FluxJob fj, int urgency)
    {
        var change = new UrgencyChange(fj, urgency);
        if (fj.IsCompleted) change.Refuse("the job is over");
        else if (!_session.Connection.Post(() => SetUrgencyOnReactor(change), reason => change.Fail(BackendFailure(fj, reason).Exception)))
            change.Fail(BackendFailure(fj, _session.Connection.Failure ?? "the connection to Flux is closed").Exception);
        return change.Completion.Task;
    }

    // ---- reactor thread ----

    private void SetUrgencyOnReactor(UrgencyChange change)
    {
        var fj = change.Job;
        if (fj.IsCompleted)
        {
            change.Refuse("the job is over");
            return;
        }
        if (fj.Id == 0)
        {
            (fj.UrgencyChangesBeforeId ??= new()).Add(change); // HandleSubmitted sends it once Flux names the job
            return;
        }
        SendUrgency(change);
    }

    private unsafe void SendUrgency(UrgencyChange change)
    {
        var fj = change.Job;
        nint f = FluxNative.flux_job_set_urgency(_session.Connection.Handle, fj.Id, change.Urgency);
        if (f == 0)
        {
            change.Fail(BackendFailure(fj, "flux_job_set_urgency failed: " + Errno.Describe(Errno.Last())).Exception);
            return;
        }
        change.Future = f;
        change.Handle = GCHandle.Alloc(change);
        _urgencyChanges.Add(change);
        if (FluxNative.flux_future_then(f, -1, &OnUrgencySet, GCHandle.ToIntPtr(change.Handle)) < 0)
        {
            int errno = Errno.Last();
            DestroyUrgency(change);
            change.Fail(BackendFailure(fj, "flux_future_then failed: " + Errno.Describe(errno)).Exception);
        }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnUrgencySet(nint f, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is UrgencyChange change) change.Job.Backend.HandleUrgencySet(change, f);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: unexpected error handling an urgency response: " + ex);
        }
    }

    private unsafe void HandleUrgencySet(UrgencyChange change, nint f)
    {
        int rc = FluxNative.flux_future_get(f, null);
        string? refusal = rc < 0 ? FluxNative.ErrorText(f, Errno.Last()) : null;
        DestroyUrgency(change);
        // Flux refuses once resources are allocated ("urgency cannot be changed once resources are allocated"), or when the job is inactive.
        if (refusal is not null) change.Refuse(refusal);
        else change.Completion.TrySetResult();
    }

    private void DestroyUrgency(UrgencyChange change)
    {
        if (change.Future != 0)
        {
            FluxNative.flux_future_destroy(change.Future);
            change.Future = 0;
        }
        if (change.Handle.IsAllocated) change.Handle.Free();
        _urgencyChanges.Remove(change);
    }

    /// <summary>Sends the urgency changes asked for before Flux assigned the job's id, or refuses them when it has none.</summary>
    private void FlushUrgencyChanges(FluxJob fj, string? refusal)
    {
        if (fj.UrgencyChangesBeforeId is not { } changes) return;
        fj.UrgencyChangesBeforeId = null;
        foreach (var change in changes)
        {
            if (refusal is not null) change.Refuse(refusal);
            else SendUrgency(change);
        }
    }

    private unsafe void SubmitOnReactor(FluxJob fj, string jobspec)
    {
        if (fj.IsCompleted) return;
        if (fj.CancelRequested)
        {
            Complete(fj, new JobOutcome.Cancelled()); // never reached Flux
            return;
        }
        var job = fj.Request;
        nint h = _session.Connection.Handle;
        nint f = _presignAs is uint uid
            ? FluxNative.flux_job_submit(h, SignedJobspec.WrapUnsigned(jobspec, uid), job.Resources.Urgency, FluxNative.FLUX_JOB_PRE_SIGNED)
            : FluxNative.flux_job_submit(h, jobspec, job.Resources.Urgency, 0);
        if (f == 0)
        {
            _session.Connection.Fail($"submitting to the Flux instance at {_session.Connection.Uri} failed: {Errno.Describe(Errno.Last())}");
            return;
        }
        fj.SubmitFuture = f;
        Pin(fj);
        if (FluxNative.flux_future_then(f, -1, &OnSubmitted, fj.HandlePtr) < 0)
        {
            int errno = Errno.Last();
            DestroySubmit(fj);
            Complete(fj, BackendFailure(fj, "flux_future_then failed: " + Errno.Describe(errno)));
        }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnSubmitted(nint f, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is FluxJob fj) fj.Backend.HandleSubmitted(fj, f);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: unexpected error handling a submit response: " + ex);
        }
    }

    /// <summary>
    /// What a failed submit means: the job manager's refusal of this jobspec (Rejected, not retried), or a broker that
    /// is going away or gone (ENOSYS once its job-ingest module is unloaded at shutdown, a reset or lost connection):
    /// a BackendFailure, which retries may try again.
    /// </summary>
    internal static FluxJobFailureKind SubmitFailureKind(int errno) => errno switch
    {
        38 or 104 or 32 or 107 or 108 or 110 or 111 or 112 or 113 => FluxJobFailureKind.BackendFailure, // ENOSYS ECONNRESET EPIPE ENOTCONN ESHUTDOWN ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH
        _ => FluxJobFailureKind.Rejected,
    };

    private unsafe void HandleSubmitted(FluxJob fj, nint f)
    {
        var job = fj.Request;
        ulong id;
        int rc = FluxNative.flux_job_submit_get_id(f, &id);
        if (rc < 0)
        {
            int errno = Errno.Last();
            string why = FluxNative.ErrorText(f, errno);
            DestroySubmit(fj);
            var kind = SubmitFailureKind(errno);
            Complete(fj, new JobOutcome.Failed(new FluxJobException(
                kind == FluxJobFailureKind.Rejected
                    ? $"{job.App.DisplayName}: Flux refused the job: {why}"
                    : $"{job.App.DisplayName}: the job could not be submitted: the Flux instance is shutting down or unreachable ({why})",
                kind, job.App.DisplayName, null, fluxException: "submit: " + why)));
            FlushUrgencyChanges(fj, "Flux refused the job at submit: " + why);
            CheckDrained();
            return;
        }
        DestroySubmit(fj);
        fj.Id = id;
        job.Id = new FluxJobId(id);
        job.Future.SetJobId(job.Id);
        nint watch = FluxNative.flux_job_event_watch(_session.Connection.Handle, id, "eventlog", 0);
        if (watch == 0)
        {
            _session.Connection.Fail($"watching job {job.Id} at {_session.Connection.Uri} failed: {Errno.Describe(Errno.Last())}");
            return;
        }
        fj.WatchFuture = watch;
        Pin(fj);
        if (FluxNative.flux_future_then(watch, -1, &OnEvent, fj.HandlePtr) < 0)
        {
            int errno = Errno.Last();
            DestroyWatch(fj);
            Complete(fj, BackendFailure(fj, "flux_future_then failed: " + Errno.Describe(errno)));
        }
        FlushUrgencyChanges(fj, null);
        if (fj.CancelRequested) SendCancel(fj);
        CheckDrained();
    }

    /// <summary>Flux's event time (seconds since the epoch, RFC 18) as a timestamp; now if it is missing.</summary>
    private static DateTimeOffset FromUnixSeconds(double seconds) =>
        seconds > 0 && !double.IsNaN(seconds) && !double.IsInfinity(seconds)
            ? DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond))
            : DateTimeOffset.UtcNow;

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnEvent(nint f, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is FluxJob fj) fj.Backend.HandleEvent(fj, f);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: unexpected error handling a job event: " + ex);
        }
    }

    private unsafe void HandleEvent(FluxJob fj, nint f)
    {
        var job = fj.Request;
        nint text;
        if (FluxNative.flux_job_event_watch_get(f, &text) < 0)
        {
            int errno = Errno.Last();
            string why = FluxNative.ErrorText(f, errno);
            DestroyWatch(fj);
            if (fj.IsCompleted) return;
            if (errno == FluxNative.ENODATA) Finish(fj); // the eventlog ended (after clean)
            else if (FluxNative.IsConnectionLoss(errno) || _session.Connection.Failure is not null)
                // The broker went away: the watch often hears of it before the connection does.
                Complete(fj, BackendFailure(fj, _session.Connection.Failure ?? $"lost the connection to the Flux broker while watching job {job.Id}: {why}"));
            else Complete(fj, BackendFailure(fj, $"watching the eventlog of job {job.Id} failed: {why}"));
            return;
        }
        string json = Marshal.PtrToStringUTF8(text) ?? "";
        FluxNative.flux_future_reset(f);
        EventlogEntry entry;
        try
        {
            entry = EventlogEntry.Parse(json);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"FluxApps: job {job.Id}: skipping an eventlog entry: {ex.Message}");
            return;
        }
        if (fj.Tracker.Apply(entry)) job.Future.SetState(fj.Tracker.State);
        job.Future.AddEvent(entry.Name, entry.ContextText, FromUnixSeconds(entry.Timestamp)); // handlers that throw are contained there
        if (fj.IsCompleted) return;
        if (fj.Tracker.IsCancelled) Complete(fj, new JobOutcome.Cancelled()); // the rest of the eventlog still arrives
        else if (fj.Tracker.Cleaned) Finish(fj);
    }

    private void CancelOnReactor(FluxJob fj)
    {
        if (fj.IsCompleted || fj.CancelSent) return;
        if (fj.Id == 0)
        {
            // Not yet submitted: SubmitOnReactor drops it. Being submitted: HandleSubmitted cancels it.
            return;
        }
        SendCancel(fj);
    }

    private unsafe void SendCancel(FluxJob fj)
    {
        if (fj.CancelSent || fj.Id == 0) return;
        fj.CancelSent = true;
        nint f = FluxNative.flux_job_cancel(_session.Connection.Handle, fj.Id, CancelReason);
        if (f == 0)
        {
            _session.Connection.Fail($"cancelling job {fj.Request.Id} at {_session.Connection.Uri} failed: {Errno.Describe(Errno.Last())}");
            return;
        }
        fj.CancelFuture = f;
        Pin(fj);
        _outstandingCancels++;
        if (FluxNative.flux_future_then(f, -1, &OnCancelled, fj.HandlePtr) < 0)
        {
            DestroyCancel(fj);
        }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnCancelled(nint f, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is FluxJob fj) fj.Backend.HandleCancelled(fj, f);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: unexpected error handling a cancel response: " + ex);
        }
    }

    private unsafe void HandleCancelled(FluxJob fj, nint f)
    {
        // An error here means the job had already ended (its eventlog says how); nothing to do.
        FluxNative.flux_future_get(f, null);
        DestroyCancel(fj);
    }

    private void DestroySubmit(FluxJob fj)
    {
        if (fj.SubmitFuture == 0) return;
        FluxNative.flux_future_destroy(fj.SubmitFuture);
        fj.SubmitFuture = 0;
        Unpin(fj);
    }

    private void DestroyWatch(FluxJob fj)
    {
        if (fj.WatchFuture == 0) return;
        FluxNative.flux_future_destroy(fj.WatchFuture);
        fj.WatchFuture = 0;
        Unpin(fj);
    }

    private void DestroyCancel(FluxJob fj)
    {
        if (fj.CancelFuture == 0) return;
        FluxNative.flux_future_destroy(fj.CancelFuture);
        fj.CancelFuture = 0;
        _outstandingCancels--;
        Unpin(fj);
        CheckDrained();
    }

    /// <summary>Keeps the job reachable from native callbacks while it has a future.</summary>
    private void Pin(FluxJob fj)
    {
        if (fj.Pins++ == 0)
        {
            fj.Handle = GCHandle.Alloc(fj);
            _live.Add(fj);
        }
    }

    private void Unpin(FluxJob fj)
    {
        if (--fj.Pins == 0)
        {
            fj.Handle.Free();
            _live.Remove(fj);
        }
    }

    /// <summary>Completes a job whose eventlog reached its end.</summary>
    private void Finish(FluxJob fj)
    {
        var job = fj.Request;
        var d = fj.Tracker.Decide(job.Resources.MpiRanks);
        string app = job.App.DisplayName;
        JobOutcome outcome = d.Kind switch
        {
            JobOutcomeKind.Cancelled => new JobOutcome.Cancelled(),
            JobOutcomeKind.Finished => new JobOutcome.Finished(d.ExitCode, d.Signal, d.FailedRank) { ExitCodeMayBeSignal = d.ExitCodeMayBeSignal },
            _ => new JobOutcome.Failed(d.FailureKind switch
            {
                FluxJobFailureKind.Rejected => new FluxJobException(
                    $"{app} (job {job.Id}) can never run here: {d.FluxException}.", FluxJobFailureKind.Rejected, app, job.Id,
                    fluxException: d.FluxException, stderrTail: StderrTail.Read(job.StderrPath)),
                FluxJobFailureKind.TimeLimit => new FluxJobException(
                    $"{app} (job {job.Id}) exceeded its time limit of {job.Resources.TimeLimit} and was killed ({d.FluxException}).",
                    FluxJobFailureKind.TimeLimit, app, job.Id, fluxException: d.FluxException, stderrTail: StderrTail.Read(job.StderrPath)),
                FluxJobFailureKind.NodeFailure => new FluxJobException(
                    $"{app} (job {job.Id}) lost a node it ran on: {d.FluxException}.", FluxJobFailureKind.NodeFailure, app, job.Id,
                    fluxException: d.FluxException, stderrTail: StderrTail.Read(job.StderrPath)),
                var kind => new FluxJobException(
                    $"{app} (job {job.Id}) failed in Flux: {d.FluxException}.", kind, app, job.Id,
                    fluxException: d.FluxException, stderrTail: StderrTail.Read(job.StderrPath)),
            }),
        };
        Complete(fj, outcome);
    }

    private JobOutcome.Failed BackendFailure(FluxJob fj, string reason)
    {
        var job = fj.Request;
        string id = fj.Id != 0 ? $" (job {job.Id})" : "";
        return new JobOutcome.Failed(new FluxJobException(
            $"{job.App.DisplayName}{id}: {reason}.", FluxJobFailureKind.BackendFailure, job.App.DisplayName, fj.Id != 0 ? job.Id : null,
            fluxException: reason));
    }

    /// <summary>Reports the outcome, exactly once per job.</summary>
    private void Complete(FluxJob fj, JobOutcome outcome)
    {
        if (Interlocked.Exchange(ref fj.CompletedFlag, 1) != 0) return;
        _jobs.TryRemove(fj.Request, out _);
        if (!_session.Connection.OnReactorThread)
        {
            Report(fj.Request, outcome);
            return;
        }
        // Reading the result, removing the job's files and storing a checkpoint touch the file system: never on the
        // reactor, whose every job's events, submits and pings would wait behind a slow one.
        Interlocked.Increment(ref _reportsInFlight);
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (backend, request, outcome) = state;
            try
            {
                Report(request, outcome);
            }
            finally
            {
                Interlocked.Decrement(ref backend._reportsInFlight);
            }
        }, (this, fj.Request, outcome), preferLocal: false);
    }

    private static void Report(JobRequest request, JobOutcome outcome)
    {
        try
        {
            request.Completed?.Invoke(request, outcome);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: error completing a call: " + ex);
        }
    }

    private void CheckDrained()
    {
        if (_drained is null || _outstandingCancels > 0) return;
        foreach (var fj in _live)
            if (fj.SubmitFuture != 0) return; // its id is still coming; HandleSubmitted cancels it
        _drained.TrySetResult();
    }

    /// <summary>On the reactor thread, after the reactor stopped: destroy every future, settle every job.</summary>
    private void OnClosing(string? failure)
    {
        _poolTransport?.OnReactorClosing();
        foreach (var fj in new List<FluxJob>(_live))
        {
            if (fj.SubmitFuture != 0) { FluxNative.flux_future_destroy(fj.SubmitFuture); fj.SubmitFuture = 0; }
            if (fj.WatchFuture != 0) { FluxNative.flux_future_destroy(fj.WatchFuture); fj.WatchFuture = 0; }
            if (fj.CancelFuture != 0) { FluxNative.flux_future_destroy(fj.CancelFuture); fj.CancelFuture = 0; }
            fj.Pins = 0;
            if (fj.Handle.IsAllocated) fj.Handle.Free();
        }
        _live.Clear();
        string why = failure ?? "the runtime is shutting down";
        foreach (var change in new List<UrgencyChange>(_urgencyChanges))
        {
            DestroyUrgency(change);
            change.Fail(BackendFailure(change.Job, why).Exception);
        }
        foreach (var fj in _jobs.Values) FlushUrgencyChanges(fj, why);
        _outstandingCancels = 0;
        _drained?.TrySetResult();
        foreach (var fj in _jobs.Values)
            Complete(fj, failure is not null ? BackendFailure(fj, failure) : new JobOutcome.Cancelled());
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Cancel what is still pending, and wait (a little) for Flux to take the cancels, so an
        // instance that outlives this runtime does not keep running its jobs.
        foreach (var fj in _jobs.Values) Cancel(fj.Request);
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_session.Connection.Post(() => { _drained = drained; CheckDrained(); }, _ => drained.TrySetResult()))
        {
            try { await drained.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
        await _session.DisposeAsync().ConfigureAwait(false);
        // Anything still unsettled (a closed connection settles all) completes as cancelled.
        foreach (var fj in _jobs.Values) Complete(fj, new JobOutcome.Cancelled());
        // Ends reported on the reactor settle on the thread pool: the runtime settles what is left only after them.
        while (Volatile.Read(ref _reportsInFlight) > 0) await Task.Delay(1).ConfigureAwait(false);
    }

    /// <summary>One <see cref="FluxFuture.SetUrgencyAsync"/> call on its way to the job manager; its task always completes.</summary>
    private sealed class UrgencyChange(FluxJob job, int urgency)
    {
        public FluxJob Job { get; } = job;
        public int Urgency { get; } = urgency;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public nint Future;       // reactor
        public GCHandle Handle;   // reactor

        /// <summary>Flux (or the job's end) refused the change: the error names the job's state.</summary>
        public void Refuse(string why)
        {
            var request = Job.Request;
            Completion.TrySetException(new InvalidOperationException(
                $"{request.App.DisplayName} (job {(Job.Id != 0 ? request.Id.ToString() : "not yet submitted")}) is {request.Future.State}: "
                + $"its urgency cannot change to {Urgency}: {why}."));
        }

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }

    /// <summary>One job, as the backend tracks it. Fields marked reactor are touched only on the reactor thread.</summary>
    private sealed class FluxJob
    {
        public FluxJob(FluxJobBackend backend, JobRequest request)
        {
            Backend = backend;
            Request = request;
        }

        public FluxJobBackend Backend { get; }
        public JobRequest Request { get; }
        public readonly JobEventTracker Tracker = new(); // reactor
        public ulong Id;                                  // reactor (0 until Flux assigns one)
        public nint SubmitFuture;                         // reactor
        public nint WatchFuture;                          // reactor
        public nint CancelFuture;                         // reactor
        public int Pins;                                  // reactor
        public GCHandle Handle;                           // reactor
        public bool CancelSent;                           // reactor
        public volatile bool CancelRequested;
        public List<UrgencyChange>? UrgencyChangesBeforeId; // reactor
        public int CompletedFlag;

        public bool IsCompleted => Volatile.Read(ref CompletedFlag) != 0;

        public nint HandlePtr => GCHandle.ToIntPtr(Handle);
    }
}
