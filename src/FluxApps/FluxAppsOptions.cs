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
    /// created private to the user (0700). Default: <c>FLUXAPPS_WORKDIR</c>, else for the Flux backend
    /// <c>~/.fluxapps/runs</c>, for the local backend a memory-backed directory (<c>$XDG_RUNTIME_DIR</c>
    /// or <c>/dev/shm</c>, as <c>fluxapps-&lt;time&gt;-&lt;pid&gt;-&lt;id&gt;</c>) where there is one.
    /// Each runtime uses its own subdirectory, removed when the runtime is disposed.
    /// </summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Local backend: start ranks with <see cref="System.Diagnostics.Process"/> rather than posix_spawn and pidfds
    /// (what systems without them get). For tests of that path; also <c>FLUXAPPS_LOCAL_SPAWN=process</c>.
    /// </summary>
    internal bool LocalSpawnWithProcess { get; init; }

    /// <summary>
    /// Where cached results (<see cref="FluxAppAttribute.Cache"/>) are kept, one subdirectory per app, so a
    /// later call, in this process or a rerun, with the same app code and arguments returns at once.
    /// Created private to the user (0700, entries 0600). Default: <c>FLUXAPPS_CHECKPOINT</c>, else
    /// <c>~/.fluxapps/checkpoints</c>. Runtimes that share it share results.
    /// </summary>
    public string? CheckpointDirectory { get; init; }

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

    /// <summary>
    /// Flux backend: where Flux's C library is, as a path to <c>libflux-core.so.2</c> or to a directory
    /// holding it (a Flux prefix or its <c>lib</c>). Default: <c>FLUXAPPS_FLUX_LIBRARY</c>, then the system
    /// library path, then <c>../lib</c> next to the <c>flux</c> on PATH. A process loads the library once.
    /// </summary>
    public string? FluxLibraryPath { get; init; }

    /// <summary>
    /// Flux backend, when there is no instance to connect to: the shell command that starts the private
    /// instance. <c>{flux}</c> is replaced by the <c>flux</c> executable and <c>{program}</c> (required) by the
    /// initial program FluxApps needs the instance to run. Default <c>{flux} start {program}</c>: one broker
    /// sized to this machine. Inside another resource manager's allocation, launch one broker per node,
    /// as Parsl's <c>launch_cmd</c> does: <c>srun -N4 --ntasks-per-node=1 {flux} start {program}</c> (Slurm),
    /// <c>jsrun -n4 -a1 -c ALL_CPUS -g ALL_GPUS {flux} start {program}</c> (LSF),
    /// <c>mpiexec -n 4 -ppn 1 {flux} start {program}</c> (PBS). Also <c>FLUXAPPS_FLUX_LAUNCH</c>.
    /// The instance stops when the runtime is disposed or this process exits.
    /// </summary>
    public string? FluxLaunchCommand { get; init; }

    /// <summary>Flux backend: how long a private instance may take to start and report its URI. Default 2 minutes.</summary>
    public System.TimeSpan? FluxStartTimeout { get; init; }

    /// <summary>
    /// Flux backend: job shell options for every job (<c>flux run -o NAME=VALUE</c>), e.g.
    /// <c>["cpu-affinity"] = "per-task"</c>, <c>["gpu-affinity"] = "per-task"</c>, <c>["taskmap"] = "cyclic"</c>,
    /// <c>["mpi"] = "spectrum"</c>, <c>["pmi"] = "simple,pmix"</c>, <c>["exit-timeout"] = "none"</c>.
    /// A value that is JSON (a number, <c>true</c>/<c>false</c>, an object, an array) is passed as JSON,
    /// anything else as a string; a dotted name sets a nested option (<c>output.limit</c>); a null value removes
    /// an option. FluxApps sets <c>exit-on-error</c> (one failing rank ends the job at once, as on the local
    /// backend) unless this removes it. <see cref="FluxCallOptions.ShellOptions"/> adds to these per call.
    /// </summary>
    public System.Collections.Generic.IReadOnlyDictionary<string, string?>? FluxShellOptions { get; init; }

    /// <summary>
    /// Pools of long-lived workers, by name (see <see cref="FluxAppAttribute.Pool"/>). A pool name that calls use
    /// without an entry here gets the default settings of <see cref="FluxPoolOptions"/>.
    /// </summary>
    public System.Collections.Generic.IReadOnlyList<FluxPoolOptions>? Pools { get; init; }

    /// <summary>
    /// Where the runtime logs (category <c>FluxApps</c>): the runtime, its backend and Flux instance starting and
    /// stopping, and pool workers coming up and going down, at Information; each call's submission, start and end
    /// at Debug, its failures and retries at Warning, with the app and job id as structured fields. Default: no logging.
    /// A host's logger factory is used by <c>services.AddFluxApps()</c>.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }
}
