using FluxApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>One local runtime shared by a test class; its working directory is private to the run.</summary>
public sealed class LocalRuntimeFixture : IAsyncLifetime
{
    public FluxAppsRuntime Runtime { get; private set; } = null!;

    public FluxCallOptions Options => new() { Runtime = Runtime };

    public async Task InitializeAsync() =>
        Runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = TestPaths.WorkRoot });

    public async Task DisposeAsync() => await Runtime.DisposeAsync();
}

internal static class TestPaths
{
    public static readonly string WorkRoot = Path.Combine(Path.GetTempPath(), "fluxapps-tests-" + Environment.ProcessId);

    public static string NewTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fluxapps-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
