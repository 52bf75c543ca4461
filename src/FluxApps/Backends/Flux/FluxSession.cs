using System;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Backends.Flux;

/// <summary>A connection to a Flux instance, and the private instance behind it when this process started one.</summary>
internal sealed class FluxSession : IAsyncDisposable
{
    private FluxSession(FluxConnection connection, FluxInstance? instance, string libraryPath)
    {
        Connection = connection;
        Instance = instance;
        LibraryPath = libraryPath;
    }

    public FluxConnection Connection { get; }

    public FluxInstance? Instance { get; }

    public string LibraryPath { get; }

    public string Description =>
        $"flux: {Connection.Uri} ({(Instance is null ? "" : "private instance, ")}{Connection.Size ?? "?"} broker(s), flux-core {Connection.Version ?? "?"})";

    /// <summary>The URI to connect to: the option, else <c>FLUX_URI</c>; null means start a private instance.</summary>
    public static string? ConfiguredUri(FluxAppsOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.FluxUri)) return options.FluxUri.Trim();
        string? env = Environment.GetEnvironmentVariable("FLUX_URI");
        return string.IsNullOrWhiteSpace(env) ? null : env.Trim();
    }

    /// <summary>
    /// Loads libflux-core, then connects to the configured instance, or starts a private one with
    /// the <c>flux</c> on PATH and connects to that.
    /// </summary>
    public static async Task<FluxSession> OpenAsync(FluxAppsOptions options, CancellationToken cancellationToken)
    {
        string library = FluxLibrary.Load(options.FluxLibraryPath);
        string? uri = ConfiguredUri(options);
        FluxInstance? instance = null;
        if (uri is null)
        {
            string flux = FluxLibrary.FindFluxOnPath() ?? throw new FluxConnectionException(
                "The Flux backend has no instance to use: FluxAppsOptions.FluxUri and FLUX_URI are not set, and there is no flux on PATH to start a private instance with. "
                + "Run inside a Flux instance, name one with FluxUri, put flux on PATH, or use FluxBackend.Local (FLUXAPPS_BACKEND=local).");
            string? template = options.FluxLaunchCommand ?? Environment.GetEnvironmentVariable("FLUXAPPS_FLUX_LAUNCH");
            instance = await FluxInstance.StartAsync(flux, template, options.FluxStartTimeout ?? TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);
            uri = instance.Uri;
        }
        try
        {
            var connection = await FluxConnection.OpenAsync(uri, cancellationToken).ConfigureAwait(false);
            return new FluxSession(connection, instance, library);
        }
        catch
        {
            if (instance is not null) await instance.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes the connection, then stops the private instance (if any).</summary>
    public async ValueTask DisposeAsync()
    {
        await Connection.CloseAsync().ConfigureAwait(false);
        if (Instance is not null) await Instance.DisposeAsync().ConfigureAwait(false);
    }
}
