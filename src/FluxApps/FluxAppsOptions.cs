namespace FluxApps;

/// <summary>Which backend runs the apps.</summary>
public enum FluxBackend
{
    /// <summary>
    /// <c>FLUXAPPS_BACKEND=flux|local</c> if set; otherwise the enclosing Flux instance when
    /// <c>FLUX_URI</c> is set, a private Flux instance when <c>flux</c> is on PATH, else the local backend.
    /// </summary>
    Auto = 0,
    /// <summary>A Flux instance, through libflux-core.</summary>
    Flux,
    /// <summary>The embedded local backend: worker processes scheduled on this machine's cores and GPUs.</summary>
    Local,
}

/// <summary>Settings of a <see cref="FluxAppsRuntime"/>.</summary>
public sealed class FluxAppsOptions
{
    /// <summary>Which backend runs the apps. Default <see cref="FluxBackend.Auto"/>.</summary>
    public FluxBackend Backend { get; init; } = FluxBackend.Auto;

    /// <summary>
    /// Directory for payload and output files; it must be visible to the compute nodes and is
    /// created private to the user (0700). Default: <c>FLUXAPPS_WORKDIR</c>, else <c>~/.fluxapps/runs</c>.
    /// Each runtime uses its own subdirectory, removed when the runtime is disposed.
    /// </summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Keep each call's files after it completes (for debugging). Default false.</summary>
    public bool KeepJobFiles { get; init; }

    /// <summary>Local backend: number of cores to schedule on. Default: the cores this process may run on.</summary>
    public int? LocalCores { get; init; }

    /// <summary>
    /// Local backend: number of GPUs to schedule. Default: the NVIDIA devices found on this machine
    /// (restricted by <c>CUDA_VISIBLE_DEVICES</c> when it is set).
    /// </summary>
    public int? LocalGpus { get; init; }

    /// <summary>Local backend: pin each rank's process to its cores. Default true.</summary>
    public bool PinWorkers { get; init; } = true;

    /// <summary>Flux backend: the URI of the instance to connect to (<c>local://...</c>, <c>ssh://...</c>); default <c>FLUX_URI</c>.</summary>
    public string? FluxUri { get; init; }
}
