using System;
using System.Collections.Concurrent;
using System.ComponentModel;

namespace FluxApps.Runtime;

/// <summary>
/// The apps a worker may run. Generated module initializers register every app of their
/// assembly; the worker only ever invokes what is registered here.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FluxAppRegistry
{
    private static readonly ConcurrentDictionary<string, (FluxAppDescriptor App, FluxAppEntryPoint Entry)> s_apps = new(StringComparer.Ordinal);

    /// <summary>Registers an app and its generated entry point.</summary>
    public static void Register(FluxAppDescriptor app, FluxAppEntryPoint entryPoint)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(entryPoint);
        s_apps[app.Id] = (app, entryPoint);
    }

    /// <summary>Looks up a registered app by id.</summary>
    public static bool TryGet(string appId, out FluxAppDescriptor app, out FluxAppEntryPoint entryPoint)
    {
        if (s_apps.TryGetValue(appId, out var entry))
        {
            app = entry.App;
            entryPoint = entry.Entry;
            return true;
        }
        app = null!;
        entryPoint = null!;
        return false;
    }

    /// <summary>Number of registered apps.</summary>
    public static int Count => s_apps.Count;
}
