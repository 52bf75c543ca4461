using FluxApps.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FluxApps.Hosting.Tests;

/// <summary>Apps the hosted runtime runs.</summary>
public static partial class HostApps
{
    [FluxApp]
    public static int Sleep(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return milliseconds;
    }
}

// The host's runtime becomes the process's default for stub calls, and the environment-variable test sets
// process-wide variables: these tests run one at a time.
[CollectionDefinition(nameof(HostingCollection), DisableParallelization = true)]
public sealed class HostingCollection;

[Collection(nameof(HostingCollection))]
public sealed class HostingTests
{
    private static HostApplicationBuilder NewBuilder(IDictionary<string, string?>? configuration = null, TimeSpan? shutdownTimeout = null)
    {
        // No appsettings.json, command line or ambient environment: only what the test gives.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>
        {
            ["FluxApps:Backend"] = "Local",
            ["FluxApps:LocalCores"] = "2",
        });
        if (shutdownTimeout is { } timeout) builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        return builder;
    }

    [Fact]
    public void ConfigurationSectionBindsAndCodeAdjustsAfterIt()
    {
        var builder = NewBuilder(new Dictionary<string, string?>
        {
            ["FluxApps:Backend"] = "Local",
            ["FluxApps:LocalCores"] = "3",
            ["FluxApps:LocalGpus"] = "0",
            ["FluxApps:KeepJobFiles"] = "true",
            ["FluxApps:PinWorkers"] = "true",
            ["FluxApps:FluxStartTimeout"] = "00:00:30",
            ["FluxApps:FluxShellOptions:cpu-affinity"] = "per-task",
            ["FluxApps:FluxUri"] = "",
        });
        builder.Services.AddFluxApps(o => o.PinWorkers = false);
        builder.Services.AddFluxApps(o => o.LocalCores++); // a second call adds no second binding; its adjustment runs after the first
        using var host = builder.Build();

        var bound = host.Services.GetRequiredService<IOptions<FluxAppsHostingOptions>>().Value;
        Assert.Equal(FluxBackend.Local, bound.Backend);
        Assert.Equal(4, bound.LocalCores);
        Assert.False(bound.PinWorkers);

        FluxAppsOptions options = bound.ToRuntimeOptions();
        Assert.Equal(FluxBackend.Local, options.Backend);
        Assert.Equal(4, options.LocalCores);
        Assert.Equal(0, options.LocalGpus);
        Assert.True(options.KeepJobFiles);
        Assert.False(options.PinWorkers);
        Assert.Equal(TimeSpan.FromSeconds(30), options.FluxStartTimeout);
        Assert.Equal("per-task", Assert.Single(options.FluxShellOptions!).Value);
        Assert.Null(options.FluxUri); // empty in configuration means unset
        Assert.Null(options.WorkingDirectory);
    }

    [Fact]
    public void UnsetSettingsKeepTheRuntimesDefaults()
    {
        var builder = NewBuilder(new Dictionary<string, string?>());
        builder.Services.AddFluxApps();
        using var host = builder.Build();
        var options = host.Services.GetRequiredService<IOptions<FluxAppsHostingOptions>>().Value.ToRuntimeOptions();
        var defaults = new FluxAppsOptions();
        Assert.Equal(defaults.Backend, options.Backend);
        Assert.Equal(defaults.PinWorkers, options.PinWorkers);
        Assert.Equal(defaults.LocalCores, options.LocalCores);
        Assert.Null(options.FluxShellOptions);
    }

    [Fact]
    public async Task EnvironmentVariablesConfigureTheRuntime()
    {
        Environment.SetEnvironmentVariable("FluxApps__Backend", "Local");
        Environment.SetEnvironmentVariable("FluxApps__LocalCores", "1");
        try
        {
            // The default builder reads environment variables, as a real application's does.
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
            builder.Services.AddFluxApps();
            using var host = builder.Build();
            await host.StartAsync();
            var runtime = host.Services.GetRequiredService<FluxAppsRuntime>();
            Assert.Equal(FluxBackend.Local, runtime.Backend);
            Assert.Equal(1, runtime.Options.LocalCores);
            Assert.StartsWith("local: 1 core", runtime.BackendDescription);
            await host.StopAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable("FluxApps__Backend", null);
            Environment.SetEnvironmentVariable("FluxApps__LocalCores", null);
        }
    }

    [Fact]
    public async Task StubCallsThatNameNoRuntimeRunOnTheHostsRuntime()
    {
        var builder = NewBuilder();
        builder.Services.AddFluxApps();
        using var host = builder.Build();
        await host.StartAsync();
        var runtime = host.Services.GetRequiredService<FluxAppsRuntime>();
        Assert.Same(runtime, host.Services.GetRequiredService<FluxAppsRuntime>());
        Assert.Same(runtime, FluxAppsRuntime.Default);

        var future = HostApps.SleepAsync(300); // names no runtime
        Assert.Equal(1, runtime.PendingCount);
        Assert.Equal(300, await future);
        Assert.Equal(0, runtime.PendingCount);

        await host.StopAsync();
        Assert.False(Directory.Exists(runtime.WorkingDirectory), "the runtime's working directory outlived the host");
        Assert.Throws<ObjectDisposedException>(() => { _ = HostApps.SleepAsync(1, new FluxCallOptions { Runtime = runtime }); });
    }

    [Fact]
    public async Task StopLetsAShortCallFinishAndCancelsOneThatOutlivesTheShutdownTimeout()
    {
        var builder = NewBuilder(shutdownTimeout: TimeSpan.FromSeconds(4));
        builder.Services.AddFluxApps();
        using var host = builder.Build();
        await host.StartAsync();
        var runtime = host.Services.GetRequiredService<FluxAppsRuntime>();

        var shortCall = HostApps.SleepAsync(1000);
        var longCall = HostApps.SleepAsync(120_000);
        Assert.Equal(2, runtime.PendingCount);
        await host.StopAsync();

        // Stop returned: the short call had time to finish; the long one was cancelled and its job stopped.
        Assert.True(shortCall.AsTask().IsCompletedSuccessfully, "stop did not wait for the short call");
        Assert.Equal(1000, await shortCall);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await longCall);
        Assert.Equal(0, runtime.PendingCount);
        Assert.False(Directory.Exists(runtime.WorkingDirectory), "the runtime was not disposed");
    }

    [Fact]
    public async Task ResolvingTheRuntimeBeforeTheHostStartsStartsItAndTheHostKeepsIt()
    {
        var builder = NewBuilder();
        builder.Services.AddFluxApps();
        using var host = builder.Build();
        var early = host.Services.GetRequiredService<FluxAppsRuntime>();
        Assert.Equal(FluxBackend.Local, early.Backend);
        await host.StartAsync();
        Assert.Same(early, host.Services.GetRequiredService<FluxAppsRuntime>());
        Assert.Equal(7, await HostApps.SleepAsync(7));
        await host.StopAsync();
        Assert.False(Directory.Exists(early.WorkingDirectory));
    }

    [Fact]
    public async Task DisposingAHostThatNeverStartedDisposesARuntimeResolvedFromIt()
    {
        var builder = NewBuilder();
        builder.Services.AddFluxApps();
        var host = builder.Build();
        var runtime = host.Services.GetRequiredService<FluxAppsRuntime>();
        await ((IAsyncDisposable)host).DisposeAsync();
        Assert.False(Directory.Exists(runtime.WorkingDirectory));
    }

    [Fact]
    public async Task PoolsBindFromConfigurationAndCallsRunInThem()
    {
        var builder = NewBuilder(new Dictionary<string, string?>
        {
            ["FluxApps:Backend"] = "Local",
            ["FluxApps:LocalCores"] = "2",
            ["FluxApps:Pools:cfg:MaxWorkers"] = "1",
            ["FluxApps:Pools:cfg:CpusPerWorker"] = "2",
            ["FluxApps:Pools:cfg:IdleTimeout"] = "00:00:05",
            ["FluxApps:Pools:batch:Queue"] = "debug",
            ["FluxApps:Pools:batch:TimeLimit"] = "1h",
        });
        builder.Services.AddFluxApps();
        using var host = builder.Build();
        var options = host.Services.GetRequiredService<IOptions<FluxAppsHostingOptions>>().Value.ToRuntimeOptions();
        var pools = options.Pools!.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["batch", "cfg"], pools.Select(p => p.Name));
        Assert.Equal("debug", pools[0].Queue);
        Assert.Equal("1h", pools[0].TimeLimit);
        Assert.Null(pools[0].MaxWorkers);
        Assert.Equal(1, pools[1].MaxWorkers);
        Assert.Equal(2, pools[1].CpusPerWorker);
        Assert.Equal(TimeSpan.FromSeconds(5), pools[1].IdleTimeout);

        await host.StartAsync();
        var first = HostApps.SleepAsync(1, new FluxCallOptions { Pool = "cfg" });
        var second = HostApps.SleepAsync(2, new FluxCallOptions { Pool = "cfg" });
        Assert.Equal(1, await first);
        Assert.Equal(2, await second);
        Assert.Contains(first.Events, e => e.Name == "submit" && e.Context == "pool=cfg");
        Assert.Equal(first.JobId, second.JobId); // MaxWorkers = 1: one worker job ran both
        await host.StopAsync();
    }

    [Fact]
    public void APoolWithoutANameIsRefusedNamingIt()
    {
        var settings = new FluxAppsHostingOptions();
        settings.Pools[" "] = new FluxPoolHostingOptions { MaxWorkers = 2 };
        var ex = Assert.Throws<ArgumentException>(() => settings.ToRuntimeOptions());
        Assert.Contains("FluxApps:Pools", ex.Message);
    }

    /// <summary>Keeps the host's log entries of category FluxApps.</summary>
    private sealed class CapturingProvider : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string EventName, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        private sealed class Logger(CapturingProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (category == "FluxApps") provider.Entries.Enqueue((logLevel, eventId.Name ?? "", formatter(state, exception)));
            }
        }
    }

    [Fact]
    public async Task TheRuntimeLogsThroughTheHostsLoggers()
    {
        var builder = NewBuilder();
        var provider = new CapturingProvider();
        builder.Logging.AddProvider(provider);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddFluxApps();
        using var host = builder.Build();
        await host.StartAsync();
        var call = HostApps.SleepAsync(5);
        Assert.Equal(5, await call);
        await host.StopAsync();
        var entries = provider.Entries.ToList();
        Assert.Contains(entries, e => e.EventName == "RuntimeStarted" && e.Level == LogLevel.Information && e.Message.Contains("Local backend"));
        Assert.Contains(entries, e => e.EventName == "CallSucceeded" && e.Level == LogLevel.Debug && e.Message.Contains(call.JobId.ToString()!));
        Assert.Contains(entries, e => e.EventName == "RuntimeStopped");
    }
}
