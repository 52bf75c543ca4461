using System;
using System.Collections.Generic;
using System.Linq;
using FluxApps.Backends.Flux;

namespace FluxApps;

/// <summary>
/// The Flux backend could not reach its Flux instance, or could not start its private instance.
/// The message says which URI or launch command failed and, for a private instance, ends with the
/// brokers' own output.
/// </summary>
public sealed class FluxConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FluxConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Flux's C library, libflux-core.so.2, could not be found or loaded; the message lists every place tried.</summary>
public sealed class FluxLibraryNotFoundException : Exception
{
    /// <summary>Creates the exception from the places tried, each with why it failed.</summary>
    public FluxLibraryNotFoundException(IReadOnlyList<string> tried)
        : base("The Flux backend needs Flux's C library, " + FluxLibrary.FileName + ", and it was not found. Tried:" + Environment.NewLine
               + string.Join(Environment.NewLine, tried.Select(t => "  - " + t)) + Environment.NewLine
               + "Install flux-core, put its flux on PATH, or name the library with FluxAppsOptions.FluxLibraryPath (or "
               + FluxLibrary.PathVariable + "); use FluxBackend.Local (FLUXAPPS_BACKEND=local) to run without Flux.")
    {
        Tried = tried;
    }

    /// <summary>Each place tried, with why it failed.</summary>
    public IReadOnlyList<string> Tried { get; }
}
