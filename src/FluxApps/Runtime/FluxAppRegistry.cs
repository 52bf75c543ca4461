using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace FluxApps.Runtime;

/// <summary>
/// The apps a worker may run. Generated module initializers register every app of their
/// assembly; the worker only ever invokes what is registered here.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FluxAppRegistry
{
    // A plain Dictionary of reference types: its code is precompiled in the framework, which
    // keeps it off the worker's start-up path (a generic over our own value types would be JIT-compiled).
    private static readonly Dictionary<string, Registration> s_apps = new(StringComparer.Ordinal);

    /// <summary>Registers an app and its generated entry point.</summary>
    public static void Register(FluxAppDescriptor app, FluxAppEntryPoint entryPoint)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(entryPoint);
        lock (s_apps) s_apps[app.Id] = new Registration(app, entryPoint);
    }

    /// <summary>Looks up a registered app by id.</summary>
    public static bool TryGet(string appId, out FluxAppDescriptor app, out FluxAppEntryPoint entryPoint)
    {
        Registration? registration;
        lock (s_apps) s_apps.TryGetValue(appId, out registration);
        app = registration?.App!;
        entryPoint = registration?.EntryPoint!;
        return registration is not null;
    }

    /// <summary>Number of registered apps.</summary>
    public static int Count
    {
        get { lock (s_apps) return s_apps.Count; }
    }

    private sealed class Registration(FluxAppDescriptor app, FluxAppEntryPoint entryPoint)
    {
        public FluxAppDescriptor App { get; } = app;
        public FluxAppEntryPoint EntryPoint { get; } = entryPoint;
    }
}
