using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace FluxApps.Hosting;

/// <summary>
/// The settings of the runtime a host starts, as bound from the <c>FluxApps</c> configuration section
/// (<c>appsettings.json</c>, environment variables such as <c>FluxApps__Backend=Local</c> or
/// <c>FluxApps__LocalCores=4</c>, command-line <c>--FluxApps:Backend=Local</c>) and then adjusted by
/// <c>services.AddFluxApps(options =&gt; ...)</c>. Each property means what the
/// <see cref="FluxAppsOptions"/> property of the same name means; unset ones keep its defaults.
/// </summary>
/// <remarks>
/// A settable twin of <see cref="FluxAppsOptions"/> (whose properties are init-only, so that a started
/// runtime's options cannot change under it): the configuration binder and code both write here, and
/// the host builds the runtime's options from it once, when the runtime starts.
/// </remarks>
public sealed class FluxAppsHostingOptions
{
    /// <summary>The configuration section bound: <c>FluxApps</c>.</summary>
    public const string SectionName = "FluxApps";

    /// <inheritdoc cref="FluxAppsOptions.Backend"/>
    public FluxBackend Backend { get; set; } = FluxBackend.Auto;

    /// <inheritdoc cref="FluxAppsOptions.WorkingDirectory"/>
    public string? WorkingDirectory { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.CheckpointDirectory"/>
    public string? CheckpointDirectory { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.KeepJobFiles"/>
    public bool KeepJobFiles { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.LocalCores"/>
    public int? LocalCores { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.LocalGpus"/>
    public int? LocalGpus { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.PinWorkers"/>
    public bool PinWorkers { get; set; } = true;

    /// <inheritdoc cref="FluxAppsOptions.FluxUri"/>
    public string? FluxUri { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.FluxLibraryPath"/>
    public string? FluxLibraryPath { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.FluxLaunchCommand"/>
    public string? FluxLaunchCommand { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.FluxStartTimeout"/>
    /// <remarks>In configuration as a <see cref="TimeSpan"/> (<c>"00:00:30"</c>).</remarks>
    public TimeSpan? FluxStartTimeout { get; set; }

    /// <inheritdoc cref="FluxAppsOptions.FluxShellOptions"/>
    /// <remarks>In configuration as a section: <c>FluxApps__FluxShellOptions__cpu-affinity=per-task</c>.</remarks>
    public Dictionary<string, string?> FluxShellOptions { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Pools of long-lived workers, by pool name (<see cref="FluxAppsOptions.Pools"/>). In configuration as a section
    /// per pool: <c>"Pools": { "gpu": { "MaxWorkers": 4, "GpusPerWorker": 1 } }</c>, or
    /// <c>FluxApps__Pools__gpu__MaxWorkers=4</c>.
    /// </summary>
    public Dictionary<string, FluxPoolHostingOptions> Pools { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The runtime's options: these settings, with <see cref="FluxAppsOptions"/>' defaults for those left unset, logging
    /// to <paramref name="loggerFactory"/> (the host's, when the host starts the runtime).
    /// </summary>
    /// <exception cref="ArgumentException">A pool's name is empty.</exception>
    public FluxAppsOptions ToRuntimeOptions(ILoggerFactory? loggerFactory = null) => new()
    {
        LoggerFactory = loggerFactory,
        Pools = Pools.Count == 0 ? null : Pools.Select(p => p.Value.ToPoolOptions(p.Key)).ToList(),
        Backend = Backend,
        WorkingDirectory = NullIfEmpty(WorkingDirectory),
        CheckpointDirectory = NullIfEmpty(CheckpointDirectory),
        KeepJobFiles = KeepJobFiles,
        LocalCores = LocalCores,
        LocalGpus = LocalGpus,
        PinWorkers = PinWorkers,
        FluxUri = NullIfEmpty(FluxUri),
        FluxLibraryPath = NullIfEmpty(FluxLibraryPath),
        FluxLaunchCommand = NullIfEmpty(FluxLaunchCommand),
        FluxStartTimeout = FluxStartTimeout,
        FluxShellOptions = FluxShellOptions.Count == 0 ? null : new Dictionary<string, string?>(FluxShellOptions, StringComparer.Ordinal),
    };

    // Configuration has no null: an empty value (FluxApps__FluxUri=) means "not set".
    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>
/// One pool's settings as bound from configuration (<c>FluxApps:Pools:&lt;name&gt;</c>); each property means what the
/// <see cref="FluxPoolOptions"/> property of the same name means, and unset ones keep its defaults.
/// </summary>
public sealed class FluxPoolHostingOptions
{
    /// <inheritdoc cref="FluxPoolOptions.MaxWorkers"/>
    public int? MaxWorkers { get; set; }

    /// <inheritdoc cref="FluxPoolOptions.CpusPerWorker"/>
    public int? CpusPerWorker { get; set; }

    /// <inheritdoc cref="FluxPoolOptions.GpusPerWorker"/>
    public int? GpusPerWorker { get; set; }

    /// <inheritdoc cref="FluxPoolOptions.TimeLimit"/>
    public string? TimeLimit { get; set; }

    /// <inheritdoc cref="FluxPoolOptions.IdleTimeout"/>
    /// <remarks>In configuration as a <see cref="TimeSpan"/> (<c>"00:00:30"</c>).</remarks>
    public TimeSpan? IdleTimeout { get; set; }

    /// <inheritdoc cref="FluxPoolOptions.Queue"/>
    public string? Queue { get; set; }

    /// <summary>The pool's options under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public FluxPoolOptions ToPoolOptions(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"FluxApps:Pools has a pool named \"{name}\": a pool needs a name.", nameof(name));
        return new FluxPoolOptions
        {
            Name = name,
            MaxWorkers = MaxWorkers,
            CpusPerWorker = CpusPerWorker,
            GpusPerWorker = GpusPerWorker,
            TimeLimit = string.IsNullOrEmpty(TimeLimit) ? null : TimeLimit,
            IdleTimeout = IdleTimeout,
            Queue = string.IsNullOrEmpty(Queue) ? null : Queue,
        };
    }
}
