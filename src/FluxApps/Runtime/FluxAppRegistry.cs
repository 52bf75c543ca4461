using System;
using System.ComponentModel;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Runtime;

/// <summary>
/// The apps a worker may run. Generated module initializers register every app of their
/// assembly; the worker only ever invokes what is registered here.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FluxAppRegistry
{
    // An array searched in order: a worker's start-up then loads no System.Collections facade and
    // JIT-compiles no dictionary to find its app. An assembly registers its apps once; a worker looks one up once.
    private static readonly object s_gate = new();
    private static Registration[] s_apps = new Registration[8];
    private static int s_count;
    private static readonly System.Collections.Generic.List<Startup> s_startups = new();

    /// <summary>Registers an app and its generated entry point.</summary>
    public static void Register(FluxAppDescriptor app, FluxAppEntryPoint entryPoint)
    {
        ArgumentNullException.ThrowIfNull(entryPoint);
        Add(new Registration(app, entryPoint, (arguments, result, _) => entryPoint(arguments, result), takesToken: false));
    }

    /// <summary>Registers an app whose generated entry point takes the call's cancellation token.</summary>
    public static void Register(FluxAppDescriptor app, FluxAppCancellableEntryPoint entryPoint)
    {
        ArgumentNullException.ThrowIfNull(entryPoint);
        Add(new Registration(app, (arguments, result) => entryPoint(arguments, result, CancellationToken.None), entryPoint, takesToken: true));
    }

    /// <summary>
    /// Registers a <see cref="FluxWorkerStartupAttribute"/> method of an assembly: a worker process runs each once,
    /// before its first call (<see cref="RunWorkerStartups"/>).
    /// </summary>
    public static void RegisterWorkerStartup(Func<ValueTask> startup) => RegisterWorkerStartup("a [FluxWorkerStartup] method", startup);

    /// <summary>
    /// Registers a <see cref="FluxWorkerStartupAttribute"/> method by name (its type and method, as a failure names it):
    /// a worker process runs each once, before its first call (<see cref="RunWorkerStartups"/>).
    /// </summary>
    public static void RegisterWorkerStartup(string name, Func<ValueTask> startup)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(startup);
        lock (s_gate) s_startups.Add(new Startup(name, startup));
    }

    /// <summary>Runs every registered worker start-up method not run yet in this process (once each, in registration order); rethrows the first failure on every later call.</summary>
    internal static void RunWorkerStartups()
    {
        Startup[] startups;
        lock (s_gate) startups = s_startups.ToArray();
        foreach (var startup in startups) startup.Run();
    }

    private static void Add(Registration registration)
    {
        ArgumentNullException.ThrowIfNull(registration.App);
        var app = registration.App;
        lock (s_gate)
        {
            int index = IndexOf(app.Id);
            if (index >= 0)
            {
                s_apps[index] = registration;
                return;
            }
            if (s_count == s_apps.Length) Array.Resize(ref s_apps, s_count * 2);
            s_apps[s_count++] = registration;
        }
    }

    /// <summary>Looks up a registered app by id.</summary>
    public static bool TryGet(string appId, out FluxAppDescriptor app, out FluxAppEntryPoint entryPoint)
    {
        Registration? registration;
        lock (s_gate)
        {
            int index = IndexOf(appId);
            registration = index >= 0 ? s_apps[index] : null;
        }
        app = registration?.App!;
        entryPoint = registration?.EntryPoint!;
        return registration is not null;
    }

    /// <summary>Looks up a registered app and its entry point that takes the call's cancellation token.</summary>
    internal static bool TryGetCancellable(string appId, out FluxAppDescriptor app, out FluxAppCancellableEntryPoint entryPoint)
    {
        Registration? registration;
        lock (s_gate)
        {
            int index = IndexOf(appId);
            registration = index >= 0 ? s_apps[index] : null;
        }
        app = registration?.App!;
        entryPoint = registration?.CancellableEntryPoint!;
        return registration is not null;
    }

    /// <summary>
    /// Whether the registered app <paramref name="appId"/> takes the call's cancellation token (its generated entry point is
    /// cancellable): such an app can end cleanly when asked (SIGTERM in a job of its own) before it is killed.
    /// </summary>
    internal static bool TakesCancellationToken(string appId)
    {
        lock (s_gate)
        {
            int index = IndexOf(appId);
            return index >= 0 && s_apps[index].TakesToken;
        }
    }

    /// <summary>Number of registered apps.</summary>
    public static int Count
    {
        get { lock (s_gate) return s_count; }
    }

    private static int IndexOf(string appId)
    {
        for (int i = 0; i < s_count; i++)
            if (string.Equals(s_apps[i].App.Id, appId, StringComparison.Ordinal)) return i;
        return -1;
    }

    private sealed class Registration(FluxAppDescriptor app, FluxAppEntryPoint entryPoint, FluxAppCancellableEntryPoint cancellable, bool takesToken)
    {
        public bool TakesToken { get; } = takesToken;
        public FluxAppDescriptor App { get; } = app;
        public FluxAppEntryPoint EntryPoint { get; } = entryPoint;
        public FluxAppCancellableEntryPoint CancellableEntryPoint { get; } = cancellable;
    }

    /// <summary>One start-up method: run once; its failure is kept and rethrown to every call that needs it.</summary>
    private sealed class Startup(string name, Func<ValueTask> run)
    {
        private readonly object _gate = new();
        private bool _done;
        private Exception? _failure;

        public void Run()
        {
            lock (_gate)
            {
                if (!_done)
                {
                    _done = true;
                    try
                    {
                        var pending = run();
                        if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
                    }
                    catch (Exception ex)
                    {
                        _failure = ex;
                    }
                }
                if (_failure is not null)
                    throw new FluxWorkerStartupException(
                        $"the worker's start-up method {name} ([FluxWorkerStartup]) threw {_failure.GetType().FullName}: {_failure.Message}", _failure);
            }
        }
    }
}

/// <summary>A <see cref="FluxWorkerStartupAttribute"/> method of the worker threw: no call runs in that worker process.</summary>
internal sealed class FluxWorkerStartupException(string message, Exception inner) : InvalidOperationException(message, inner);
