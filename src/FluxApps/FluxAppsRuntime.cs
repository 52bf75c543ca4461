using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Backends;
using FluxApps.Pools;
using FluxApps.Runtime;
using FluxApps.Serialization;
using FluxApps.Telemetry;

namespace FluxApps;

/// <summary>
/// Runs app calls on a backend (a Flux instance or the embedded local backend). Start one with
/// <see cref="StartAsync"/>, or let the first stub call start <see cref="Default"/>. Disposing it
/// cancels what is still pending (each such future completes with <see cref="OperationCanceledException"/>)
/// and removes its working directory.
/// </summary>
public sealed class FluxAppsRuntime : IAsyncDisposable
{
    // A facade over Runtime/: BackendSelection chooses and starts the backend, RunDirectories places the files,
    // CallSubmitter carries each call to the backend and back, JobOutcomeReader reads how it ended, DefaultRuntime
    // keeps the default (README, "Where things live").
    private readonly IJobBackend _backend;
    private readonly RunDirectories _directories;
    private readonly WorkerCommand _worker;
    private readonly CallSubmitter _calls;
    private readonly PoolSet _pools;
    private readonly CallObserver _observer;

    private FluxAppsRuntime(FluxAppsOptions options, StartedBackend started, TimeSpan startTime)
    {
        Options = options;
        Backend = started.Kind;
        _backend = started.Backend;
        _directories = started.Directories;
        _worker = started.Worker;
        _observer = new CallObserver(options.LoggerFactory, started.Kind);
        _pools = new PoolSet(options, _backend, _worker, _directories.Root, _observer);
        _calls = new CallSubmitter(options, _directories, _backend, _pools, _observer);
        _observer.Attach(() => _calls.PendingCount, _pools.WorkerCounts);
        var logger = _observer.Logger;
        if (started.Kind == FluxBackend.Flux)
        {
            if (started.StartedFluxInstance) Log.FluxInstanceStarted(logger, _backend.InstanceUri);
            else Log.FluxInstanceConnected(logger, _backend.InstanceUri);
        }
        Log.RuntimeStarted(logger, Backend, _backend.Description, startTime.TotalMilliseconds, _directories.Root);
    }

    /// <summary>The options the runtime was started with.</summary>
    public FluxAppsOptions Options { get; }

    /// <summary>The backend in use (never <see cref="FluxBackend.Auto"/>).</summary>
    public FluxBackend Backend { get; }

    /// <summary>This runtime's directory for payloads and outputs (private to the user).</summary>
    public string WorkingDirectory => _directories.Root;

    /// <summary>A description of the backend, e.g. <c>local: 2 cores, 0 GPUs</c>.</summary>
    public string BackendDescription => _backend.Description;

    /// <summary>The URI of the Flux instance the runtime uses (for the <c>flux</c> CLI: <c>FLUX_URI=... flux jobs</c>); null on the local backend.</summary>
    public string? FluxUri => _backend.InstanceUri;

    /// <summary>Number of calls submitted and not yet completed.</summary>
    public int PendingCount => _calls.PendingCount;

    /// <summary>
    /// Completes once every call this runtime took has its outcome (at once when none is pending); for a host that lets
    /// running calls finish before it stops. Cancelling the token ends the wait, not the calls.
    /// </summary>
    internal Task WhenIdleAsync(CancellationToken cancellationToken) => _observer.WhenIdleAsync(cancellationToken);

    /// <summary>The pools, for tests and diagnostics.</summary>
    internal PoolSet Pools => _pools;

    /// <summary>The backend itself, for tests and diagnostics.</summary>
    internal IJobBackend JobBackend => _backend;

    /// <summary>True once <see cref="DisposeAsync"/> has begun.</summary>
    internal bool IsDisposed => _calls.IsClosed;

    /// <summary>
    /// The command that runs one task of a call kept with <see cref="FluxCallOptions.KeepFiles"/>:
    /// run it by hand (with <c>FLUX_TASK_RANK</c> set) to debug an app outside the scheduler.
    /// </summary>
    public IReadOnlyList<string> WorkerCommandLine(string jobDirectory) => _worker.For(jobDirectory);

    /// <summary>
    /// The runtime stub calls use when they name none: the first runtime started and not yet
    /// disposed, or one started now with default options. Starting one may connect to Flux or start
    /// a private Flux instance (see <see cref="FluxBackend.Auto"/>); that blocks the first caller
    /// until the backend is ready, so prefer <see cref="StartAsync"/> where a caller can await.
    /// </summary>
    public static FluxAppsRuntime Default => DefaultRuntime.Get();

    /// <summary>
    /// Starts a runtime: chooses the backend, and for Flux connects to the instance (or starts a
    /// private one and waits for it). The first one started becomes <see cref="Default"/> until it is disposed.
    /// </summary>
    /// <exception cref="FluxConnectionException">The Flux instance cannot be reached or started.</exception>
    /// <exception cref="FluxLibraryNotFoundException">The Flux backend was chosen and libflux-core.so.2 was not found.</exception>
    public static async Task<FluxAppsRuntime> StartAsync(FluxAppsOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var runtime = await CreateAsync(options ?? new FluxAppsOptions(), cancellationToken).ConfigureAwait(false);
        DefaultRuntime.Offer(runtime);
        return runtime;
    }

    /// <summary>Starts a runtime without offering it as the default.</summary>
    internal static async Task<FluxAppsRuntime> CreateAsync(FluxAppsOptions options, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        var started = await BackendSelection.StartAsync(options, cancellationToken).ConfigureAwait(false);
        return new(options, started, Stopwatch.GetElapsedTime(start));
    }

    /// <summary>
    /// The events of this runtime's calls from this moment on (the subscription is made by this call, so calls submitted
    /// right after it are all seen): each call's submission, its job's events (submit, alloc, start, finish, exception,
    /// retry, ...) and its completion, in the order they happen for each call. Nothing is dropped: events wait in memory
    /// for a slow reader. The stream ends when the runtime is disposed (after the last call's completion) or when
    /// <paramref name="cancellationToken"/> is cancelled (without an exception); a disposed runtime gives an empty stream.
    /// Enumerate it once; ask again for another subscription.
    /// </summary>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <exception cref="InvalidOperationException">The stream is enumerated a second time.</exception>
    public IAsyncEnumerable<FluxCallEvent> WatchEventsAsync(CancellationToken cancellationToken = default) =>
        new CallEventStream(_observer, _observer.Subscribe(IsDisposed), cancellationToken);

    /// <summary>Submits one call. Called by <see cref="FluxAppInvoker"/>.</summary>
    internal void Submit(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, CancellationToken cancellationToken,
        FluxCommand? command = null) =>
        _calls.Submit(future, arguments, resources, options, cancellationToken, command);

    /// <summary>
    /// Cancels every pending call (their futures complete as cancelled), ends the pools (no worker job or process is
    /// left), stops the backend and removes the working directory.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_calls.Close()) return;
        DefaultRuntime.Forget(this);
        Log.RuntimeStopping(_observer.Logger, Backend, _calls.PendingCount);
        _calls.CancelPending();
        // Pools first: their workers are jobs of the backend, stopped and waited for while it still runs.
        await _pools.DisposeAsync().ConfigureAwait(false);
        await _backend.DisposeAsync().ConfigureAwait(false);
        _calls.SettlePendingAsCancelled();
        if (!Options.KeepJobFiles) _directories.RemoveRun();
        Log.RuntimeStopped(_observer.Logger, Backend);
        _observer.Detach();
    }
}
