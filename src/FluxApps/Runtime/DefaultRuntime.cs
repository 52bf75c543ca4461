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
    // Runtimes owned by running hosts (FluxApps.Hosting), latest last: while one runs it is the default.
    private static readonly System.Collections.Generic.List<FluxAppsRuntime> s_hosted = [];

    /// <summary>The default runtime, started now (blocking this caller until its backend is ready) when there is none.</summary>
    public static FluxAppsRuntime Get()
    {
        lock (s_gate)
        {
            for (int i = s_hosted.Count - 1; i >= 0; i--)
            {
                if (!s_hosted[i].IsDisposed) return s_hosted[i];
            }
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

    /// <summary>
    /// The runtime <see cref="Get"/> would return now, without starting one: a running host's, else the default;
    /// null when there is none (a dry run reads its options, <see cref="FluxDryRun"/>).
    /// </summary>
    public static FluxAppsRuntime? Peek()
    {
        lock (s_gate)
        {
            for (int i = s_hosted.Count - 1; i >= 0; i--)
            {
                if (!s_hosted[i].IsDisposed) return s_hosted[i];
            }
            return s_default is { IsDisposed: false } current ? current : null;
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

    /// <summary>
    /// A host's runtime becomes the default while the host runs, ahead of any other (FluxApps.Hosting sets it
    /// when the host starts and <see cref="EndHosted"/> clears it when the host stops).
    /// </summary>
    public static void BeginHosted(FluxAppsRuntime runtime)
    {
        lock (s_gate) s_hosted.Add(runtime);
    }

    /// <summary>A host's runtime stops being the default.</summary>
    public static void EndHosted(FluxAppsRuntime runtime)
    {
        lock (s_gate) s_hosted.Remove(runtime);
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
