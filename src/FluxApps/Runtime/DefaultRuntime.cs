using System;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Runtime;

/// <summary>
/// The runtime stub calls use when they name none (<see cref="FluxAppsRuntime.Default"/>): the first runtime
/// started and not yet disposed, or one started implicitly with default options, stopped at process exit.
/// </summary>
internal static class DefaultRuntime
{
    private static readonly object s_gate = new();
    private static readonly object s_startGate = new();
    private static FluxAppsRuntime? s_default;
    private static bool s_processExitHooked;

    /// <summary>The default runtime, started now (blocking this caller until its backend is ready) when there is none.</summary>
    public static FluxAppsRuntime Get()
    {
        lock (s_gate)
        {
            if (s_default is { IsDisposed: false }) return s_default;
        }
        // One implicit start at a time; callers that arrive meanwhile wait and share it.
        lock (s_startGate)
        {
            lock (s_gate)
            {
                if (s_default is { IsDisposed: false }) return s_default;
            }
            // On the thread pool, so no synchronization context can deadlock the wait (a
            // private Flux instance takes a few seconds to start).
            var started = Task.Run(() => FluxAppsRuntime.CreateAsync(new FluxAppsOptions(), CancellationToken.None)).GetAwaiter().GetResult();
            lock (s_gate)
            {
                if (s_default is { IsDisposed: false } winner)
                {
                    // StartAsync got there first: keep its runtime, drop ours.
                    started.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    return winner;
                }
                s_default = started;
                HookProcessExit();
                return started;
            }
        }
    }

    /// <summary>A runtime just started explicitly becomes the default when there is none.</summary>
    public static void Offer(FluxAppsRuntime runtime)
    {
        lock (s_gate)
        {
            if (s_default is null || s_default.IsDisposed) s_default = runtime;
        }
    }

    /// <summary>A runtime being disposed stops being the default.</summary>
    public static void Forget(FluxAppsRuntime runtime)
    {
        lock (s_gate)
        {
            if (ReferenceEquals(s_default, runtime)) s_default = null;
        }
    }

    private static void HookProcessExit()
    {
        if (s_processExitHooked) return;
        s_processExitHooked = true;
        // An implicitly started runtime has no owner to dispose it: stop its workers at exit.
        AppDomain.CurrentDomain.ProcessExit += static (_, _) =>
        {
            FluxAppsRuntime? rt;
            lock (s_gate) rt = s_default;
            rt?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        };
    }
}
