using System;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FluxApps.Hosting;

/// <summary>
/// The host's runtime: started in <see cref="StartingAsync"/> (before any hosted service's
/// <c>StartAsync</c>, so their stub calls find it) or earlier when resolved; the default for stub calls
/// from then until the host has stopped; drained and disposed in <see cref="StoppedAsync"/> (after every
/// hosted service's <c>StopAsync</c>, so calls those make while stopping still run).
/// </summary>
internal sealed partial class FluxAppsHostedRuntime(IOptions<FluxAppsHostingOptions> options, ILoggerFactory? loggerFactory = null)
    : IHostedLifecycleService, IAsyncDisposable
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FluxApps.Hosting");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FluxAppsRuntime? _runtime;
    private bool _stopped;

    /// <summary>The runtime, started now (blocking this caller until its backend is ready) when the host has not started it yet.</summary>
    public FluxAppsRuntime GetOrStart()
    {
        var runtime = Volatile.Read(ref _runtime);
        if (runtime is not null) return runtime;
        // On the thread pool, so no synchronization context can deadlock the wait.
        return Task.Run(() => StartRuntimeAsync(CancellationToken.None)).GetAwaiter().GetResult();
    }

    private async Task<FluxAppsRuntime> StartRuntimeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_runtime is not null) return _runtime;
            ObjectDisposedException.ThrowIf(_stopped, this);
            // The runtime logs its own start (and everything after) to the host's loggers.
            var runtime = await FluxAppsRuntime.CreateAsync(options.Value.ToRuntimeOptions(loggerFactory), cancellationToken).ConfigureAwait(false);
            DefaultRuntime.BeginHosted(runtime);
            Volatile.Write(ref _runtime, runtime);
            return runtime;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => StartRuntimeAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Waits for running calls until the host's shutdown token fires (<c>HostOptions.ShutdownTimeout</c>
    /// after the host began to stop), then disposes the runtime, which cancels the calls still running.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        FluxAppsRuntime? runtime;
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _stopped = true;
            runtime = _runtime;
        }
        finally
        {
            _gate.Release();
        }
        if (runtime is null) return;
        int pending = runtime.PendingCount;
        if (pending > 0)
        {
            LogDraining(_logger, pending);
            try
            {
                await runtime.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                LogCancelling(_logger, runtime.PendingCount);
            }
        }
        await StopRuntimeAsync(runtime).ConfigureAwait(false);
    }

    private static async ValueTask StopRuntimeAsync(FluxAppsRuntime runtime)
    {
        DefaultRuntime.EndHosted(runtime);
        await runtime.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The service provider is disposed: a runtime started but never stopped by the host (it never ran, or failed to start) stops here.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopped = true;
        var runtime = Volatile.Read(ref _runtime);
        if (runtime is not null) await StopRuntimeAsync(runtime).ConfigureAwait(false);
        _gate.Dispose();
    }

    [LoggerMessage(2, LogLevel.Information, "Host stopping: waiting for {Pending} running FluxApps call(s) to finish within the shutdown timeout")]
    private static partial void LogDraining(ILogger logger, int pending);

    [LoggerMessage(3, LogLevel.Warning, "Shutdown timeout reached: cancelling {Pending} FluxApps call(s) still running")]
    private static partial void LogCancelling(ILogger logger, int pending);
}
