using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluxApps.Backends;
using FluxApps.Runtime;

namespace FluxApps.Pools;

/// <summary>
/// The pools of one runtime: created on first use by name (<see cref="PoolSettings.Resolve"/>), sharing one
/// transport that workers reach the client by, and the backend their worker jobs run on. Disposing it ends every pool.
/// </summary>
internal sealed class PoolSet : IAsyncDisposable
{
    private readonly FluxAppsOptions _options;
    private readonly IJobBackend _backend;
    private readonly WorkerCommand _worker;
    private readonly string _root;
    private readonly ConcurrentDictionary<string, WorkerPool> _pools = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private IPoolTransport? _transport;
    private long _workerIds;
    private long _callFiles;
    private bool _disposed;

    public PoolSet(FluxAppsOptions options, IJobBackend backend, WorkerCommand worker, string root, Telemetry.CallObserver observer)
    {
        _options = options;
        _backend = backend;
        _worker = worker;
        _root = root;
        Observer = observer;
    }

    /// <summary>Where the pools report workers coming up and going down.</summary>
    public Telemetry.CallObserver Observer { get; }

    /// <summary>Each pool's workers by state, for the <c>fluxapps.pool.workers</c> gauge.</summary>
    public IEnumerable<(string Pool, int Starting, int Busy, int Idle)> WorkerCounts()
    {
        foreach (var pool in _pools.Values)
        {
            var (starting, busy, idle) = pool.CountWorkers();
            yield return (pool.Settings.Name, starting, busy, idle);
        }
    }

    /// <summary>Calls queued or running in every pool.</summary>
    public int PendingCount => _pools.Values.Sum(p => p.PendingCount);

    /// <summary>The pool of that name, created with its settings on first use.</summary>
    /// <exception cref="ArgumentException">The pool's configured settings are invalid.</exception>
    public WorkerPool Get(string name)
    {
        if (_pools.TryGetValue(name, out var pool)) return pool;
        lock (_gate)
        {
            if (_pools.TryGetValue(name, out pool)) return pool;
            if (_disposed) throw new ObjectDisposedException(nameof(FluxAppsRuntime), "This FluxAppsRuntime was disposed; start a new one.");
            var (workers, cpus) = _backend.DefaultPoolShape;
            pool = new WorkerPool(this, PoolSettings.Resolve(name, _options.Pools, workers, cpus));
            if (_transport is null)
            {
                _transport = _backend.CreatePoolTransport(_root);
                _transport.Accepted = Accepted;
            }
            _pools[name] = pool;
            return pool;
        }
    }

    /// <summary>A pool by name if it exists (tests).</summary>
    internal WorkerPool? Find(string name) => _pools.TryGetValue(name, out var pool) ? pool : null;

    private bool Accepted(long worker, int pid, IPoolChannel channel)
    {
        // Worker indexes are unique in the runtime (NextWorkerIndex): exactly one pool knows each.
        foreach (var pool in _pools.Values)
            if (pool.Connected(worker, pid, channel)) return true;
        return false;
    }

    /// <summary>
    /// A new file path for a call payload too large for a frame (<see cref="PoolFrames.InlineLimit"/>), in the run directory,
    /// which every worker sees (on Flux, as it sees a job's files); the directory is made private on first use.
    /// </summary>
    public string NewCallFile(string kind)
    {
        string directory = Path.Combine(_root, "pool-calls");
        if (!Directory.Exists(directory)) RunDirectories.CreatePrivateDirectory(directory);
        long n = System.Threading.Interlocked.Increment(ref _callFiles);
        return Path.Combine(directory, $"{kind}-{n.ToString(System.Globalization.CultureInfo.InvariantCulture)}.bin");
    }

    /// <summary>A new worker index, unique in this runtime.</summary>
    public long NextWorkerIndex() => System.Threading.Interlocked.Increment(ref _workerIds);

    /// <summary>The job that runs one worker of <paramref name="pool"/>: the worker command in pool mode, its connection details in its environment.</summary>
    public JobRequest CreateWorkerJob(WorkerPool pool, PoolWorker worker, FluxAppDescriptor workerApp)
    {
        var settings = pool.Settings;
        string directory = Path.Combine(_root, $"pool-w{worker.Index}");
        Directory.CreateDirectory(directory);
        var resources = settings.WorkerResources();
        return WorkerJob(workerApp, resources, directory, _transport!.WorkerEnvironment(worker.Index), _worker);
    }

    /// <summary>
    /// The job of a pool worker in <paramref name="directory"/>: the worker command in pool mode, the transport's
    /// <paramref name="connection"/> variables and the directory in its environment, its output in the directory.
    /// </summary>
    public static JobRequest WorkerJob(FluxAppDescriptor workerApp, JobResources resources, string directory,
        IReadOnlyDictionary<string, string?> connection, WorkerCommand worker)
    {
        var environment = new Dictionary<string, string?>(connection)
        {
            [WorkerCommand.JobDirectoryVariable] = directory,
        };
        var command = worker.ForPool();
        return new JobRequest(new FluxVoidFuture(workerApp), resources, directory, environment, Environment.CurrentDirectory)
        {
            Command = new FluxCommand(command[0], command.Skip(1).ToArray())
            {
                StdoutPath = Path.Combine(directory, Payload.StdoutFile),
                StderrPath = Path.Combine(directory, Payload.StderrFile),
            },
        };
    }

    public void SubmitWorkerJob(JobRequest job)
    {
        try
        {
            _backend.Submit(job);
        }
        catch (Exception ex)
        {
            job.Completed?.Invoke(job, new JobOutcome.Failed(new FluxJobException(
                $"{job.App.DisplayName}: could not submit its job: {ex.Message}", FluxJobFailureKind.BackendFailure, job.App.DisplayName, null, inner: ex)));
        }
    }

    public void CancelWorkerJob(JobRequest job) => _backend.Cancel(job);

    /// <summary>A worker's job is over: its files go (unless kept).</summary>
    public void WorkerJobEnded(JobRequest job)
    {
        if (!_options.KeepJobFiles) RunDirectories.TryDelete(job.JobDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate) _disposed = true;
        await Task.WhenAll(_pools.Values.Select(p => p.DisposeAsync())).ConfigureAwait(false);
        if (_transport is not null) await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
