using System;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Backends;
using FluxApps.Backends.Flux;

namespace FluxApps.Runtime;

/// <summary>A backend ready for calls, with the run directory and worker command it was built with.</summary>
/// <param name="Kind">The backend chosen (never <see cref="FluxBackend.Auto"/>).</param>
/// <param name="Directories">The run directory and its call directories.</param>
/// <param name="Worker">The command that starts a worker on a call directory.</param>
/// <param name="Backend">The backend; the runtime owns it from here on and disposes it.</param>
internal sealed record StartedBackend(FluxBackend Kind, RunDirectories Directories, WorkerCommand Worker, IJobBackend Backend)
{
    /// <summary>True when the Flux backend started a private instance (rather than connecting to one).</summary>
    public bool StartedFluxInstance { get; init; }
}

/// <summary>
/// Which backend a runtime uses (<see cref="Choose"/>), and starting it (<see cref="StartAsync"/>): for Flux,
/// connecting to the instance or starting a private one; for both, creating the run directory and resolving
/// the worker command the backend is built with.
/// </summary>
internal static class BackendSelection
{
    /// <summary>
    /// Resolves <see cref="FluxBackend.Auto"/>: <c>FLUXAPPS_BACKEND</c>, then an instance to connect
    /// to (<see cref="FluxAppsOptions.FluxUri"/> or <c>FLUX_URI</c>), then <c>flux</c> on PATH (a private
    /// instance), else local.
    /// </summary>
    /// <exception cref="ArgumentException"><c>FLUXAPPS_BACKEND</c> names no backend.</exception>
    public static FluxBackend Choose(FluxAppsOptions options)
    {
        if (options.Backend != FluxBackend.Auto) return options.Backend;
        string? env = Environment.GetEnvironmentVariable("FLUXAPPS_BACKEND");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return env.Trim().ToLowerInvariant() switch
            {
                "flux" => FluxBackend.Flux,
                "local" => FluxBackend.Local,
                _ => throw new ArgumentException($"FLUXAPPS_BACKEND = \"{env}\" is not a backend: use \"flux\" or \"local\"."),
            };
        }
        if (FluxSession.ConfiguredUri(options) is not null) return FluxBackend.Flux;
        if (FluxLibrary.FindFluxOnPath() is not null) return FluxBackend.Flux;
        return FluxBackend.Local;
    }

    /// <summary>Chooses the backend and starts it; for Flux, waits until the instance answers.</summary>
    /// <exception cref="FluxConnectionException">The Flux instance cannot be reached or started.</exception>
    /// <exception cref="FluxLibraryNotFoundException">The Flux backend was chosen and libflux-core.so.2 was not found.</exception>
    public static async Task<StartedBackend> StartAsync(FluxAppsOptions options, CancellationToken cancellationToken)
    {
        FluxBackend kind = Choose(options);
        if (kind == FluxBackend.Local)
        {
            var directories = RunDirectories.Create(options.WorkingDirectory, memoryBacked: true, options.KeepJobFiles);
            var worker = WorkerCommand.Resolve(directories.Root);
            return new StartedBackend(kind, directories, worker, new LocalBackend(options, worker));
        }
        if (kind != FluxBackend.Flux) throw new ArgumentException($"Backend = {kind} is not a backend: use Auto, Flux or Local.");
        // Check the shell options now, so a typo fails at start rather than on every call.
        ShellOptions.Merge(options.FluxShellOptions);
        var session = await FluxSession.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            var directories = RunDirectories.Create(options.WorkingDirectory, memoryBacked: false, options.KeepJobFiles);
            var worker = WorkerCommand.Resolve(directories.Root);
            return new StartedBackend(kind, directories, worker, new FluxJobBackend(session, worker, options.FluxShellOptions))
            {
                StartedFluxInstance = session.Instance is not null,
            };
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
