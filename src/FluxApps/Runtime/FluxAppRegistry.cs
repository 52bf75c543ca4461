using System;
using System.ComponentModel;

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

    /// <summary>Registers an app and its generated entry point.</summary>
    public static void Register(FluxAppDescriptor app, FluxAppEntryPoint entryPoint)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(entryPoint);
        var registration = new Registration(app, entryPoint);
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

    private sealed class Registration(FluxAppDescriptor app, FluxAppEntryPoint entryPoint)
    {
        public FluxAppDescriptor App { get; } = app;
        public FluxAppEntryPoint EntryPoint { get; } = entryPoint;
    }
}
