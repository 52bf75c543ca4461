using System;
using FluxApps;
using FluxApps.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds FluxApps to a host's services.</summary>
public static class FluxAppsServiceCollectionExtensions
{
    /// <summary>
    /// Adds a <see cref="FluxAppsRuntime"/> that starts with the host and stops with it. Its settings come
    /// from the <c>FluxApps</c> configuration section (<see cref="FluxAppsHostingOptions"/>: e.g.
    /// <c>FluxApps__Backend=Local</c>). While the host runs, stub calls that name no runtime
    /// (<see cref="FluxCallOptions.Runtime"/>) use it, and services can take it as a
    /// <see cref="FluxAppsRuntime"/>. When the host stops, calls still running get the rest of the host's
    /// shutdown timeout (<c>HostOptions.ShutdownTimeout</c>) to finish; then those left are cancelled
    /// and the runtime is disposed.
    /// </summary>
    /// <remarks>
    /// Resolving <see cref="FluxAppsRuntime"/> before the host has started (a hosted service that takes it in
    /// its constructor is built before any service starts) starts the runtime there and then, blocking the
    /// caller until its backend is ready; the host then uses that same runtime. After the host has stopped,
    /// resolving it gives the disposed runtime, and calls on it throw <see cref="ObjectDisposedException"/>.
    /// Calling this more than once adds one runtime; each call's <c>configure</c> runs, in order.
    /// </remarks>
    public static IServiceCollection AddFluxApps(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.IsAddedAlready()) return services;
        services.AddSingleton<FluxAppsHostingMarker>();
        // Bound through the configuration binder's source generator (EnableConfigurationBindingGenerator),
        // which intercepts this Bind call: no reflection, so trimmed and NativeAOT hosts bind the same way.
        // Without an IConfiguration (a bare ServiceCollection) the settings are the defaults.
        services.AddOptions<FluxAppsHostingOptions>().Configure<IServiceProvider>(static (options, provider) =>
            provider.GetService<IConfiguration>()?.GetSection(FluxAppsHostingOptions.SectionName).Bind(options));
        services.TryAddSingleton<FluxAppsHostedRuntime>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FluxAppsHostedRuntime>(
            static provider => provider.GetRequiredService<FluxAppsHostedRuntime>()));
        services.TryAddSingleton(static provider => provider.GetRequiredService<FluxAppsHostedRuntime>().GetOrStart());
        return services;
    }

    /// <summary>
    /// Adds FluxApps as <see cref="AddFluxApps(IServiceCollection)"/> does, then adjusts the settings bound
    /// from configuration in code: <c>services.AddFluxApps(o =&gt; o.LocalCores = 4)</c>.
    /// </summary>
    public static IServiceCollection AddFluxApps(this IServiceCollection services, Action<FluxAppsHostingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddFluxApps();
        services.Configure(configure);
        return services;
    }

    private static bool IsAddedAlready(this IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(FluxAppsHostingMarker)) return true;
        }
        return false;
    }

    /// <summary>Marks a service collection FluxApps was added to, so that the configuration is bound once.</summary>
    private sealed class FluxAppsHostingMarker;
}
