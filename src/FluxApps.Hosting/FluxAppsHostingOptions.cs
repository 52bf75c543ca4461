using System;
using System.Collections.Generic;

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

    /// <summary>The runtime's options: these settings, with <see cref="FluxAppsOptions"/>' defaults for those left unset.</summary>
    public FluxAppsOptions ToRuntimeOptions() => new()
    {
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
