using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluxApps.Backends.Flux;
using FluxApps.Pools;

namespace FluxApps.Runtime;

/// <summary>
/// A dry run in progress (<see cref="FluxDryRun"/>): while one is current on this async flow, <see cref="FluxAppInvoker"/>
/// hands each call here once its resources are resolved, instead of to a runtime. The call goes through the checks a
/// runtime makes before it submits (retries, caching, pool), becomes a <see cref="FluxJobDescription"/> built the way
/// <see cref="CallSubmitter"/> and <see cref="FluxJobBackend"/> build the request and jobspec, and its future is cancelled.
/// </summary>
internal sealed class DryRunCapture
{
    private static readonly AsyncLocal<DryRunCapture?> s_current = new();
    private static readonly FluxAppsOptions s_defaultOptions = new();
    private static readonly Lazy<WorkerCommand> s_worker = new(() => WorkerCommand.Describe(FluxDryRun.RunDirectoryPlaceholder));

    private readonly FluxDryRunOptions _options;
    private readonly List<FluxJobDescription> _calls = new();
    private bool _closed;

    private DryRunCapture(FluxDryRunOptions options) => _options = options;

    /// <summary>The dry run this async flow is in, or null: calls are then submitted.</summary>
    public static DryRunCapture? Current => s_current.Value;

    /// <summary>Runs <paramref name="calls"/> as a dry run and returns what its app calls would submit.</summary>
    /// <exception cref="InvalidOperationException">It made no app call.</exception>
    public static IReadOnlyList<FluxJobDescription> Run(Action calls, FluxDryRunOptions? options)
    {
        var capture = new DryRunCapture(options ?? new FluxDryRunOptions());
        var outer = s_current.Value;
        s_current.Value = capture;
        try
        {
            calls();
        }
        finally
        {
            s_current.Value = outer;
            lock (capture._calls) capture._closed = true;
        }
        if (capture._calls.Count == 0)
        {
            throw new InvalidOperationException(
                "The dry run's lambda made no app call: call a generated stub inside it, e.g. FluxDryRun.Describe(() => Physics.SimulateAsync(1000, 0.01)) " +
                "(a future created before the dry run, or a call made after the lambda returned, is not part of it).");
        }
        return capture._calls.ToArray();
    }

    /// <summary>
    /// Describes one call instead of submitting it, then cancels its future (also when the call is refused: the
    /// exception then goes to the stub's caller, as from a real submission).
    /// </summary>
    /// <exception cref="ArgumentException">The call's retries, caching or pool are invalid, or its shell options malformed.</exception>
    /// <exception cref="InvalidOperationException">The call came after its dry run ended (from work the lambda left running).</exception>
    public void Record(FluxFuture future, JobResources resources, FluxCallOptions? options, FluxCommand? command)
    {
        try
        {
            lock (_calls)
            {
                if (_closed)
                {
                    throw new InvalidOperationException(
                        $"{future.AppName} was called after its dry run ended (from work the dry run's lambda started and did not wait for); it was not submitted.");
                }
                _calls.Add(Describe(future, resources, options, command, _calls.Count + 1));
            }
        }
        finally
        {
            future.TrySetCanceled(CancellationToken.None);
        }
    }

    private FluxJobDescription Describe(FluxFuture future, JobResources resources, FluxCallOptions? options, FluxCommand? command, long call)
    {
        var app = future.App;
        // The runtime's checks before it submits (CallSubmitter.Submit), in the same order.
        int retries = RetryPolicy.ResolveRetries(app, options);
        bool cache = CheckpointStore.Resolve(app, options, command is not null);
        var runtimeOptions = _options.RuntimeOptions ?? options?.Runtime?.Options ?? DefaultRuntime.Peek()?.Options ?? s_defaultOptions;
        IDictionary callerEnvironment = _options.IncludeCallerEnvironment ? System.Environment.GetEnvironmentVariables() : new Hashtable();
        var worker = s_worker.Value;

        JobRequest request;
        string? pool = PoolSettings.PoolOf(app, options);
        if (pool is not null)
        {
            // A default worker as the Flux runtime in use sizes it (from its instance's resource set); with none, this
            // machine's cores, as the Flux backend does where it cannot read the set.
            var (workers, cpus) = (options?.Runtime ?? DefaultRuntime.Peek()) is { Backend: FluxBackend.Flux } flux
                ? flux.JobBackend.DefaultPoolShape
                : (1, System.Environment.ProcessorCount);
            var settings = PoolSettings.Resolve(pool, runtimeOptions.Pools, workers, cpus);
            settings.CheckCall(app, resources, options, command is not null);
            request = PoolWorkerJob(settings, worker);
        }
        else
        {
            string jobDirectory = Path.Combine(FluxDryRun.RunDirectoryPlaceholder, "c" + call.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request = JobRequest.ForCall(future, resources, options, command, jobDirectory, call, options?.Environment);
        }
        string jobspec = FluxJobBackend.BuildJobspec(request, worker, runtimeOptions.FluxShellOptions, callerEnvironment);
        return new FluxJobDescription(app, resources, pool, command is not null, retries, cache, request.TaskCommand(worker), request.JobDirectory, jobspec);
    }

    /// <summary>
    /// The job of one worker of the pool, as <see cref="PoolSet.CreateWorkerJob"/> builds it on the Flux backend, with
    /// placeholders for what exists only once the pool runs (its directory, service name, secret and worker index).
    /// </summary>
    private static JobRequest PoolWorkerJob(PoolSettings settings, WorkerCommand worker)
    {
        string directory = Path.Combine(FluxDryRun.RunDirectoryPlaceholder, "pool-w1");
        var connection = new Dictionary<string, string?>
        {
            [FluxPoolTransport.ServiceVariable] = "<pool-service>",
            [PoolListener.SecretVariable] = "<pool-secret>",
            [PoolListener.WorkerVariable] = "<worker-index>",
        };
        // As FluxPoolTransport.WorkerEnvironment: the worker loads the libflux-core this process loaded (none yet: left out).
        if (FluxLibrary.LoadedFrom is { } library && File.Exists(library)) connection[FluxLibrary.PathVariable] = library;
        return PoolSet.WorkerJob(settings.WorkerApp(), settings.WorkerResources(), directory, connection, worker);
    }
}
