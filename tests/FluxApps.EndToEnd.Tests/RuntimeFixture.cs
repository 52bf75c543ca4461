using FluxApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>One local runtime shared by a test class; its working directory is private to the run.</summary>
public class LocalRuntimeFixture : IAsyncLifetime
{
    public FluxAppsRuntime Runtime { get; private set; } = null!;

    public virtual FluxCallOptions Options => new() { Runtime = Runtime };

    /// <summary>Whether ranks start through System.Diagnostics.Process (the path of systems without pidfds) rather than posix_spawn.</summary>
    public virtual bool SpawnWithProcess => false;

    /// <summary>Whether ranks really start through System.Diagnostics.Process: asked for, or posix_spawn and pidfds are missing here.</summary>
    public bool StartsWithProcess => Runtime.BackendDescription.EndsWith("System.Diagnostics.Process", StringComparison.Ordinal);

    public async Task InitializeAsync() =>
        Runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalSpawnWithProcess = SpawnWithProcess,
        });

    public async Task DisposeAsync() => await Runtime.DisposeAsync();
}

/// <summary>A local runtime whose calls run in a pool of long-lived workers ("e2e").</summary>
public sealed class PooledRuntimeFixture : LocalRuntimeFixture
{
    public const string Pool = "e2e";

    public override FluxCallOptions Options => new() { Runtime = Runtime, Pool = Pool };
}

/// <summary>A local runtime that starts its ranks with System.Diagnostics.Process.</summary>
public sealed class ProcessSpawnRuntimeFixture : LocalRuntimeFixture
{
    public override bool SpawnWithProcess => true;
}

/// <summary>Runs the worker by hand on a kept call directory, the way the backend starts a job's task (rank 0).</summary>
internal static class WorkerByHand
{
    public static async Task<(int Code, string Stderr)> RunAsync(FluxAppsRuntime runtime, string callDirectory)
    {
        var command = runtime.WorkerCommandLine(callDirectory);
        var psi = new System.Diagnostics.ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment["FLUX_TASK_RANK"] = "0";
        using var p = System.Diagnostics.Process.Start(psi)!;
        string stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, stderr);
    }
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
