using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Backends;
using FluxApps.Runtime;

namespace FluxApps.Pools;

/// <summary>
/// One pool: queues its calls, hands each to a worker with room for its cores and GPUs (first fit, in
/// submission order), starts workers as jobs of the backend when calls wait and the pool is below its size,
/// ends workers idle past the idle timeout, enforces each call's time limit and cancellation, and when a
/// worker's job ends fails exactly the calls that were running on it (<see cref="FluxJobFailureKind.WorkerLost"/>)
/// while the queued ones go to a replacement. All state is under one lock; futures settle outside it.
/// </summary>
internal sealed class WorkerPool
{
    /// <summary>How long an app may ignore its call's cancellation before its worker is replaced (once the worker's other calls end).</summary>
    internal static TimeSpan CancelGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Workers in a row that end before they connect, after which the pool stops trying and fails its queued calls.</summary>
    private const int MaxFailedStarts = 3;

    private readonly object _gate = new();
    private readonly PoolSet _set;
    private readonly LinkedList<PooledCall> _queue = new();
    private readonly Dictionary<long, PoolWorker> _workers = new();
    private readonly FluxAppDescriptor _workerApp;
    private readonly Timer _idleTimer;
    private long _nextCall;
    private long _queuedCpus; // sum of the queued calls' cores: growth decisions without walking a long queue
    private int _failedStarts;
    private bool _disposed;
    private TaskCompletionSource? _allWorkersGone;

    public WorkerPool(PoolSet set, PoolSettings settings)
    {
        _set = set;
        Settings = settings;
        _workerApp = settings.WorkerApp();
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(settings.IdleTimeout.TotalMilliseconds / 4, 20, 1000));
        _idleTimer = new Timer(static state => ((WorkerPool)state!).EndIdleWorkers(), this, tick, tick);
    }

    public PoolSettings Settings { get; }

    /// <summary>Calls queued or running (settled ones excluded).</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate) return _queue.Count + _workers.Values.Sum(w => w.Running.Values.Count(c => c.State == PooledCall.Stage.Running));
        }
    }

    /// <summary>Workers now (starting, ready or stopping), for tests.</summary>
    internal int WorkerCount
    {
        get { lock (_gate) return _workers.Count; }
    }

    /// <summary>Workers starting (not connected yet), busy (running calls) and idle (connected, no call).</summary>
    public (int Starting, int Busy, int Idle) CountWorkers()
    {
        int starting = 0, busy = 0, idle = 0;
        lock (_gate)
        {
            foreach (var worker in _workers.Values)
            {
                if (worker.State == PoolWorker.Stage.Starting) starting++;
                else if (worker.Running.Count > 0) busy++;
                else if (worker.State == PoolWorker.Stage.Ready) idle++;
            }
        }
        return (starting, busy, idle);
    }

    /// <summary>The job ids of the workers that have one, for tests.</summary>
    internal IReadOnlyList<(FluxJobId Job, int Pid)> Workers
    {
        get { lock (_gate) return _workers.Values.Where(w => w.Job is not null).Select(w => (w.Job!.Id, w.Pid)).ToList(); }
    }

    /// <summary>Queues one attempt of a call; its future settles with the worker's answer.</summary>
    /// <param name="future">The call's future.</param>
    /// <param name="arguments">The serialized arguments.</param>
    /// <param name="resources">The call's resources (cores and GPUs within a worker, time limit).</param>
    /// <param name="keepDirectory">Where to keep the call's files (<see cref="FluxCallOptions.KeepFiles"/>), or null.</param>
    public void Submit(FluxFuture future, ReadOnlySpan<byte> arguments, JobResources resources, string? keepDirectory = null)
    {
        future.RefuseUrgency($"runs in pool {Settings.Name}, which hands its calls to its workers first-fit in submission order: a pooled call is not a job of its own");
        var built = Payload.BuildArguments(future.App, arguments).WrittenSpan;
        if (keepDirectory is not null) KeepFile(future, keepDirectory, Payload.ArgumentsFile, built);
        byte[]? payload = null;
        string? argumentsFile = null;
        if (built.Length > PoolFrames.InlineLimit)
        {
            // Too large for a frame: a file the worker reads (written here, outside the pool's lock).
            argumentsFile = _set.NewCallFile("args");
            try
            {
                Payload.WriteFile(argumentsFile, built);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                RunDirectories.TryDeleteFile(argumentsFile);
                future.TrySetException(new FluxJobException(
                    $"{future.AppName} (pool {Settings.Name}): its {built.Length} bytes of arguments, too large for a frame, could not be written to {argumentsFile}: {ex.Message}",
                    FluxJobFailureKind.BackendFailure, future.AppName, null, inner: ex));
                return;
            }
        }
        else
        {
            payload = built.ToArray();
        }
        PooledCall? call = null;
        lock (_gate)
        {
            if (!_disposed)
            {
                call = new PooledCall(++_nextCall, future, payload, resources.Cpus, resources.Gpus, resources.TimeLimit, resources.TimeLimitSeconds)
                {
                    KeepDirectory = keepDirectory,
                    ArgumentsFile = argumentsFile,
                };
                call.Node = _queue.AddLast(call);
                _queuedCpus += call.Cpus;
            }
        }
        if (call is null)
        {
            if (argumentsFile is not null) RunDirectories.TryDeleteFile(argumentsFile);
            future.TrySetCanceled(CancellationToken.None);
            return;
        }
        future.SetState(FluxJobState.Sched);
        future.AddEvent("submit", $"pool={Settings.Name}");
        future.SetCancelAction(() => Cancel(call));
        if (future.CancelRequested) Cancel(call);
        Dispatch();
    }

    /// <summary>A call is over: its arguments file, if it had one, is no longer needed (the worker deletes it once read, too).</summary>
    private static void Forget(PooledCall call)
    {
        if (call.ArgumentsFile is { } file) RunDirectories.TryDeleteFile(file);
    }

    /// <summary>Keeps one of a call's files for debugging; one that cannot be written is noted in the call's events, not fatal to it.</summary>
    private static void KeepFile(FluxFuture future, string directory, string name, ReadOnlySpan<byte> bytes)
    {
        try
        {
            Directory.CreateDirectory(directory);
            Payload.WriteFile(Path.Combine(directory, name), bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            future.AddEvent("keep-files-failed", $"{Path.Combine(directory, name)}: {ex.Message}");
        }
    }

    /// <summary>Hands queued calls to workers with room, then starts workers if calls still wait.</summary>
    private void Dispatch()
    {
        List<PooledCall>? started = null;
        lock (_gate)
        {
            if (_disposed) return;
            int free = 0;
            foreach (var worker in _workers.Values) if (worker.State == PoolWorker.Stage.Ready) free += worker.FreeCpus;
            for (var node = _queue.First; node is not null && free > 0;)
            {
                var next = node.Next;
                var call = node.Value;
                var worker = FirstFit(call);
                if (worker is not null)
                {
                    _queue.Remove(node);
                    _queuedCpus -= call.Cpus;
                    call.Node = null;
                    free -= call.Cpus;
                    if (Assign(call, worker)) (started ??= new()).Add(call);
                }
                node = next;
            }
            GrowLocked();
        }
        if (started is null) return;
        foreach (var call in started)
        {
            var future = call.Future;
            if (call.Worker!.Job is { } job && job.Id != default) future.SetJobId(job.Id);
            future.SetState(FluxJobState.Run);
            future.AddEvent("start", $"worker={call.Worker.Index}");
        }
    }

    private PoolWorker? FirstFit(PooledCall call)
    {
        foreach (var worker in _workers.Values)
            if (worker.State == PoolWorker.Stage.Ready && worker.FreeCpus >= call.Cpus && (call.Gpus == 0 || worker.FreeGpus >= call.Gpus)) return worker;
        return null;
    }

    /// <summary>Sends a call to a worker (under the lock); false when the connection has just closed (the call is back in the queue).</summary>
    private bool Assign(PooledCall call, PoolWorker worker)
    {
        call.Worker = worker;
        call.GpuSlots = call.Gpus > 0 ? worker.TakeGpus(call.Gpus) : Array.Empty<int>();
        worker.FreeCpus -= call.Cpus;
        worker.Running.Add(call.Id, call);
        call.State = PooledCall.Stage.Running;
        string? trace = call.Future.TraceParent is { } parent
            ? (string.IsNullOrEmpty(call.Future.TraceState) ? parent : parent + "\n" + call.Future.TraceState)
            : null;
        int traceBytes = trace is null ? 0 : Encoding.UTF8.GetByteCount(trace);
        int gpuBytes = 4 + 4 * call.GpuSlots.Length;
        Span<byte> head = stackalloc byte[gpuBytes + 4 + traceBytes + 1];
        BinaryPrimitives.WriteInt32LittleEndian(head, call.GpuSlots.Length);
        for (int i = 0; i < call.GpuSlots.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(head[(4 + 4 * i)..], call.GpuSlots[i]);
        BinaryPrimitives.WriteInt32LittleEndian(head[gpuBytes..], traceBytes);
        if (trace is not null) Encoding.UTF8.GetBytes(trace, head[(gpuBytes + 4)..]);
        head[^1] = (byte)(call.ArgumentsFile is null ? PoolFrames.Placement.Inline : PoolFrames.Placement.InFile);
        ReadOnlySpan<byte> arguments = call.ArgumentsFile is null ? call.Arguments : Encoding.UTF8.GetBytes(call.ArgumentsFile);
        if (!worker.Connection!.Send(PoolFrames.Kind.Call, call.Id, head, arguments))
        {
            worker.Running.Remove(call.Id);
            worker.Release(call);
            call.State = PooledCall.Stage.Queued;
            call.Worker = null;
            call.Node = _queue.AddFirst(call);
            _queuedCpus += call.Cpus;
            return false;
        }
        call.Arguments = null;
        if (call.TimeLimitSeconds > 0 && !double.IsPositiveInfinity(call.TimeLimitSeconds))
        {
            call.Timer = DeadlineTimer.Start(call.TimeLimitSeconds, static state =>
            {
                var (pool, limited) = ((WorkerPool, PooledCall))state!;
                pool.OnTimeLimit(limited);
            }, (this, call));
        }
        return true;
    }

    /// <summary>Starts workers while the calls waiting need more cores than the workers on their way bring.</summary>
    private void GrowLocked()
    {
        if (_queue.Count == 0) return;
        // After failed starts in a row the pool stops adding workers while others serve the queue; with none left it
        // tries again (and fails the queue if that fails too), so a pool is never left unable to grow.
        if (_failedStarts >= MaxFailedStarts && _workers.Values.Any(w => w.State is PoolWorker.Stage.Ready or PoolWorker.Stage.Starting)) return;
        long waitingCpus = _queuedCpus;
        int active = 0, starting = 0;
        foreach (var worker in _workers.Values)
        {
            if (worker.State == PoolWorker.Stage.Stopping) continue;
            active++;
            if (worker.State == PoolWorker.Stage.Starting) starting++;
        }
        while (active < Settings.MaxWorkers && waitingCpus > (long)starting * Settings.CpusPerWorker)
        {
            StartWorkerLocked();
            active++;
            starting++;
        }
    }

    private void StartWorkerLocked()
    {
        var worker = new PoolWorker(_set.NextWorkerIndex(), Settings.CpusPerWorker, Settings.GpusPerWorker);
        _workers.Add(worker.Index, worker);
        try
        {
            worker.Job = _set.CreateWorkerJob(this, worker, _workerApp);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // Its directory cannot be made (a full file system, a file in the way): it ends as a failed start, outside
            // the lock, so it never counts as starting forever and the queue fails once no start succeeds.
            var failure = new JobOutcome.Failed(new FluxJobException(
                $"pool {Settings.Name}: worker {worker.Index} could not be prepared: {ex.Message}",
                FluxJobFailureKind.BackendFailure, _workerApp.DisplayName, null, inner: ex));
            ThreadPool.UnsafeQueueUserWorkItem(static state =>
            {
                var (pool, failed, outcome) = ((WorkerPool, PoolWorker, JobOutcome))state!;
                pool.WorkerEnded(failed, outcome);
            }, (this, worker, (JobOutcome)failure), preferLocal: false);
            return;
        }
        worker.Job.Completed = (_, outcome) => WorkerEnded(worker, outcome);
        // Submitted outside the lock: a backend may report the end (e.g. rejected) synchronously.
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (set, job) = ((PoolSet, JobRequest))state!;
            set.SubmitWorkerJob(job);
        }, (_set, worker.Job), preferLocal: false);
    }

    /// <summary>A worker reached the client through the transport and proved it holds the secret; false when the pool does not know it (or is ending).</summary>
    public bool Connected(long index, int pid, IPoolChannel connection)
    {
        FluxJobId? job;
        lock (_gate)
        {
            if (_disposed || !_workers.TryGetValue(index, out var worker) || worker.State != PoolWorker.Stage.Starting) return false;
            worker.Connection = connection;
            worker.Pid = pid;
            worker.State = PoolWorker.Stage.Ready;
            worker.IdleSince = Environment.TickCount64;
            _failedStarts = 0;
            connection.FrameReceived = (kind, id, body) => OnFrame(worker, kind, id, body);
            connection.Closed = _ => ConnectionLost(worker);
            job = worker.Job?.Id;
        }
        connection.Start();
        _set.Observer.PoolWorkerUp(Settings.Name, index, job, pid);
        Dispatch();
        return true;
    }

    private void OnFrame(PoolWorker worker, PoolFrames.Kind kind, long id, ReadOnlySequence<byte> body)
    {
        if (kind != PoolFrames.Kind.Done || body.Length < 5) return;
        byte outcomeByte = body.FirstSpan[0];
        var outcome = (PoolFrames.Outcome)(outcomeByte & ~PoolFrames.InFileFlag);
        Span<byte> lengthBytes = stackalloc byte[4];
        body.Slice(1, 4).CopyTo(lengthBytes);
        int length = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
        if (length < 0 || length > body.Length - 5) return;
        byte[] payload = body.Slice(5, length).ToArray();
        string stderrTail = Encoding.UTF8.GetString(body.Slice(5 + length));
        string? payloadFile = (outcomeByte & PoolFrames.InFileFlag) != 0 ? Encoding.UTF8.GetString(payload) : null;
        PooledCall? call;
        bool settle;
        lock (_gate)
        {
            if (!worker.Running.Remove(id, out call)) return;
            worker.Release(call);
            call.Timer?.Dispose();
            settle = call.State == PooledCall.Stage.Running;
            call.State = PooledCall.Stage.Done;
            if (worker.Running.Count == 0) worker.IdleSince = Environment.TickCount64;
            RetireIfOnlyAbandonedLocked(worker);
        }
        string? unreadable = null;
        FileSystemStall.Wait();
        if (payloadFile is not null)
        {
            // A payload too large for a frame: the worker left it in a file of its own directory (only such a file is read).
            bool ours = worker.Job is { } workerJob && Path.GetDirectoryName(Path.GetFullPath(payloadFile)) == Path.GetFullPath(workerJob.JobDirectory);
            if (!ours)
            {
                unreadable = $"{payloadFile}: it is not in the worker's directory";
            }
            else
            {
                try
                {
                    if (settle) payload = RawFile.ReadAllBytes(payloadFile);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OutOfMemoryException)
                {
                    unreadable = $"{payloadFile}: {ex.Message}";
                }
                RunDirectories.TryDeleteFile(payloadFile);
            }
        }
        Forget(call);
        if (settle && unreadable is not null)
        {
            var job = worker.Job?.Id;
            call.Future.TrySetException(new FluxJobException(
                $"{call.Future.AppName} (pool {Settings.Name}, worker job {job}): its result, too large for a frame, could not be read from {unreadable}",
                FluxJobFailureKind.BadResult, call.Future.AppName, job, stderrTail: stderrTail));
        }
        else if (settle)
        {
            Settle(call, worker, outcome, payload, stderrTail);
        }
        Dispatch();
    }

    private void Settle(PooledCall call, PoolWorker worker, PoolFrames.Outcome outcome, byte[] payload, string stderrTail)
    {
        var future = call.Future;
        if (call.KeepDirectory is { } kept)
        {
            KeepFile(future, kept, outcome == PoolFrames.Outcome.Result ? Payload.ResultFile : Payload.ErrorFile(0), payload);
            if (stderrTail.Length > 0) KeepFile(future, kept, Payload.StderrFile, Encoding.UTF8.GetBytes(stderrTail));
        }
        FluxJobId? job = worker.Job?.Id;
        future.AddEvent("finish", outcome == PoolFrames.Outcome.Result ? "status=0" : "status=1");
        future.SetState(FluxJobState.Inactive);
        try
        {
            switch (outcome)
            {
                case PoolFrames.Outcome.Result:
                    future.SetResult(Payload.OpenResult(payload, $"pool {Settings.Name} call {call.Id}"));
                    break;
                case PoolFrames.Outcome.AppException:
                {
                    var error = Payload.ParseError(payload, $"pool {Settings.Name} call {call.Id}");
                    future.TrySetException(new FluxAppException(future.AppName, job, 0, error.Type, error.Message, error.StackTrace));
                    break;
                }
                default:
                {
                    var error = Payload.ParseError(payload, $"pool {Settings.Name} call {call.Id}");
                    future.TrySetException(new FluxJobException(
                        $"{future.AppName} (pool {Settings.Name}, worker job {job}): the worker refused the call: {error.Message}",
                        FluxJobFailureKind.BadResult, future.AppName, job, stderrTail: stderrTail));
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            future.TrySetException(new FluxJobException(
                $"{future.AppName} (pool {Settings.Name}, worker job {job}): its result could not be decoded: {ex.Message}",
                FluxJobFailureKind.BadResult, future.AppName, job, stderrTail: stderrTail, inner: ex));
        }
    }

    /// <summary>Cancels a call: a queued one leaves the queue; a running one is told to stop (its token) and keeps its cores until it returns.</summary>
    private void Cancel(PooledCall call)
    {
        bool settle;
        lock (_gate)
        {
            settle = call.State is PooledCall.Stage.Queued or PooledCall.Stage.Running;
            if (call.State == PooledCall.Stage.Queued)
            {
                _queue.Remove(call.Node!);
                _queuedCpus -= call.Cpus;
                call.Node = null;
                call.State = PooledCall.Stage.Done;
            }
            else if (call.State == PooledCall.Stage.Running)
            {
                AbandonLocked(call);
            }
        }
        if (!settle) return;
        Forget(call);
        call.Future.AddEvent("exception", "type=cancel severity=0 canceled by user");
        call.Future.TrySetCanceled(CancellationToken.None);
    }

    private void OnTimeLimit(PooledCall call)
    {
        lock (_gate)
        {
            if (call.State != PooledCall.Stage.Running) return;
            AbandonLocked(call);
        }
        Forget(call);
        var future = call.Future;
        var job = call.Worker?.Job?.Id;
        future.AddEvent("exception", $"type=timeout severity=0 call exceeded its time limit of {call.TimeLimit}");
        future.TrySetException(new FluxJobException(
            $"{future.AppName} (pool {Settings.Name}, worker job {job}) exceeded its time limit of {call.TimeLimit} and was cancelled.",
            FluxJobFailureKind.TimeLimit, future.AppName, job, fluxException: "timeout: call exceeded its time limit of " + call.TimeLimit));
    }

    /// <summary>Gives up on a running call (under the lock): its token is cancelled in the worker, and if the app ignores it past the grace period the worker is replaced.</summary>
    private void AbandonLocked(PooledCall call)
    {
        call.State = PooledCall.Stage.Abandoned;
        call.Timer?.Dispose();
        call.Worker!.Connection?.Send(PoolFrames.Kind.Cancel, call.Id);
        call.Timer = new Timer(static state =>
        {
            var (pool, abandoned) = ((WorkerPool, PooledCall))state!;
            pool.GracePassed(abandoned);
        }, (this, call), CancelGracePeriod, Timeout.InfiniteTimeSpan);
    }

    private void GracePassed(PooledCall call)
    {
        lock (_gate)
        {
            if (call.State != PooledCall.Stage.Abandoned || call.Worker is not { } worker) return;
            // The app ignores its token: the worker takes no new calls and goes once its other calls are over.
            if (worker.State == PoolWorker.Stage.Ready) worker.State = PoolWorker.Stage.Stopping;
            RetireIfOnlyAbandonedLocked(worker);
            GrowLocked();
        }
    }

    /// <summary>
    /// Ends a worker that takes no new calls once nothing it runs is still wanted: with only abandoned calls left its
    /// job is cancelled; with none left (its last call returned) it is told to stop. Without this a worker marked
    /// Stopping while another call ran would keep its cores for good.
    /// </summary>
    private void RetireIfOnlyAbandonedLocked(PoolWorker worker)
    {
        if (worker.State != PoolWorker.Stage.Stopping || worker.Retiring || !worker.OnlyAbandonedCalls) return;
        worker.Retiring = true;
        if (worker.Running.Count == 0 && worker.Connection is { } connection && connection.Send(PoolFrames.Kind.Stop, 0)) return;
        foreach (var call in worker.Running.Values) call.Timer?.Dispose();
        _set.CancelWorkerJob(worker.Job!);
    }

    /// <summary>How long a worker whose connection broke has to end by itself (so its exit status is known) before its job is cancelled.</summary>
    private static readonly TimeSpan s_lostConnectionGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The worker's connection ended: it takes no more calls. A worker that died ends its job by itself (and that
    /// end, with its exit status, fails what it ran); one still alive after a short grace has its job cancelled.
    /// </summary>
    private void ConnectionLost(PoolWorker worker)
    {
        lock (_gate)
        {
            worker.State = PoolWorker.Stage.Stopping;
            if (!_workers.ContainsKey(worker.Index)) return;
        }
        var timer = new Timer(static state =>
        {
            var (pool, lost) = ((WorkerPool, PoolWorker))state!;
            bool alive;
            lock (pool._gate) alive = pool._workers.ContainsKey(lost.Index);
            if (alive) pool._set.CancelWorkerJob(lost.Job!);
        }, (this, worker), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        worker.LostTimer = timer;
        timer.Change(s_lostConnectionGrace, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The backend's report that a worker's job ended: fail the calls it ran, start a replacement if calls wait.</summary>
    private void WorkerEnded(PoolWorker worker, JobOutcome outcome)
    {
        List<PooledCall> lost = new();
        List<PooledCall>? refused = null;
        FluxJobException? startFailure = null;
        TaskCompletionSource? allGone;
        lock (_gate)
        {
            _workers.Remove(worker.Index);
            foreach (var call in worker.Running.Values)
            {
                call.Timer?.Dispose();
                if (call.State == PooledCall.Stage.Running) lost.Add(call);
                call.State = PooledCall.Stage.Done;
            }
            worker.Running.Clear();
            if (worker.Connection is null && !_disposed)
            {
                // It never dialled in: a few such ends in a row (or a request that can never fit) fail the queue instead of looping.
                _failedStarts++;
                bool rejected = outcome is JobOutcome.Failed { Exception.Kind: FluxJobFailureKind.Rejected };
                if ((rejected || _failedStarts >= MaxFailedStarts) && _queue.Count > 0 && !_workers.Values.Any(w => w.State == PoolWorker.Stage.Ready))
                {
                    startFailure = StartFailure(worker, outcome);
                    refused = _queue.ToList();
                    _queue.Clear();
                    _queuedCpus = 0;
                    foreach (var call in refused) call.State = PooledCall.Stage.Done;
                    _failedStarts = 0;
                }
            }
            allGone = _workers.Count == 0 ? _allWorkersGone : null;
        }
        worker.LostTimer?.Dispose();
        _ = worker.Connection?.DisposeAsync();
        if (worker.Job is not null) _set.WorkerJobEnded(worker.Job);
        if (worker.Connection is not null) _set.Observer.PoolWorkerDown(Settings.Name, worker.Index, worker.Job?.Id, lost.Count, Describe(worker, outcome).How);
        // After the report, so a runtime that waits for its workers to end logs its own end after theirs.
        allGone?.TrySetResult();
        foreach (var call in lost)
        {
            Forget(call);
            call.Future.TrySetException(Lost(call, worker, outcome));
        }
        if (refused is not null)
        {
            foreach (var call in refused)
            {
                Forget(call);
                call.Future.TrySetException(startFailure!.Copy()); // each future its own instance: a retry sets EarlierFailures on it
            }
        }
        Dispatch();
    }

    private FluxJobException Lost(PooledCall call, PoolWorker worker, JobOutcome outcome)
    {
        var future = call.Future;
        var job = worker.Job?.Id;
        string tail = WorkerStderrTail(worker);
        future.AddEvent("exception", "type=worker-lost severity=0 the pool worker running the call ended");
        future.SetState(FluxJobState.Inactive);
        var (how, exitCode, signal) = Describe(worker, outcome);
        return new FluxJobException(
            $"{future.AppName} (pool {Settings.Name}): its worker (job {job}, pid {worker.Pid}) {how} while the call ran.",
            FluxJobFailureKind.WorkerLost, future.AppName, job, exitCode, signal, (outcome as JobOutcome.Failed)?.Exception.FluxExceptionText, tail);
    }

    private FluxJobException StartFailure(PoolWorker worker, JobOutcome outcome)
    {
        var (how, exitCode, signal) = Describe(worker, outcome);
        var kind = outcome is JobOutcome.Failed failed ? failed.Exception.Kind : FluxJobFailureKind.WorkerLost;
        return new FluxJobException(
            $"pool {Settings.Name}: its workers could not start ({Settings.CpusPerWorker} core(s), {Settings.GpusPerWorker} GPU(s) each): the last one {how}.",
            kind, _workerApp.DisplayName, worker.Job?.Id, exitCode, signal, (outcome as JobOutcome.Failed)?.Exception.FluxExceptionText,
            WorkerStderrTail(worker));
    }

    /// <summary>The end of a worker's stderr, or empty for a worker whose job could not be made.</summary>
    private static string WorkerStderrTail(PoolWorker worker) => worker.Job is null ? "" : StderrTail.Read(worker.Job.StderrPath);

    /// <summary>How a worker's job ended, in words, with its exit code or signal.</summary>
    private static (string How, int? ExitCode, int? Signal) Describe(PoolWorker worker, JobOutcome outcome)
    {
        switch (outcome)
        {
            case JobOutcome.Finished finished:
            {
                int? signal = finished.Signal;
                int code = finished.ExitCode;
                // Flux's shell folds signal N into exit code 128 + N; the worker records the code it exits with, so a missing record is a signal.
                if (signal is null && finished.ExitCodeMayBeSignal && code > 128 && code <= 128 + 64 && worker.Job is not null
                    && Payload.ReadExitRecord(worker.Job.JobDirectory, 0) != code)
                    signal = code - 128;
                return signal is int s
                    ? ($"was killed by signal {s} ({ExitStatus.SignalName(s)})", null, s)
                    : ($"exited with code {code}", code, null);
            }
            case JobOutcome.Failed failed:
                return ($"ended: {failed.Exception.Message}", failed.Exception.ExitCode, failed.Exception.Signal);
            default:
                return ("was cancelled", null, null);
        }
    }

    /// <summary>Ends workers idle past the idle timeout (they finish and exit; their jobs end by themselves).</summary>
    private void EndIdleWorkers()
    {
        long now = Environment.TickCount64;
        lock (_gate)
        {
            if (_disposed) return;
            foreach (var worker in _workers.Values)
            {
                if (worker.State != PoolWorker.Stage.Ready || worker.Running.Count > 0) continue;
                if (now - worker.IdleSince < Settings.IdleTimeout.TotalMilliseconds) continue;
                worker.State = PoolWorker.Stage.Stopping;
                worker.Connection!.Send(PoolFrames.Kind.Stop, 0);
            }
        }
    }

    /// <summary>Ends the pool: every queued or running call settles as cancelled, every worker is stopped and its job waited for.</summary>
    public async Task DisposeAsync()
    {
        List<PooledCall> cancelled = new();
        List<JobRequest> jobs = new();
        Task gone;
        lock (_gate)
        {
            _disposed = true;
            _idleTimer.Dispose();
            cancelled.AddRange(_queue);
            _queue.Clear();
            _queuedCpus = 0;
            foreach (var worker in _workers.Values)
            {
                foreach (var call in worker.Running.Values)
                {
                    call.Timer?.Dispose();
                    if (call.State == PooledCall.Stage.Running) cancelled.Add(call);
                    call.State = PooledCall.Stage.Done;
                }
                worker.State = PoolWorker.Stage.Stopping;
                if (worker.Job is not null) jobs.Add(worker.Job);
            }
            _allWorkersGone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_workers.Count == 0) _allWorkersGone.TrySetResult();
            gone = _allWorkersGone.Task;
        }
        foreach (var call in cancelled)
        {
            Forget(call);
            call.Future.TrySetCanceled(CancellationToken.None);
        }
        foreach (var job in jobs) _set.CancelWorkerJob(job);
        await gone.ConfigureAwait(false);
    }
}
