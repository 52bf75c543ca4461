using System.Diagnostics;
using FluxApps;
using FluxApps.Backends.Flux;

// Each integration test class runs its own Flux instance; one at a time keeps a 2-core machine honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FluxApps.Flux.Tests;

/// <summary>Whether this machine can run the Flux integration tests, and why not.</summary>
internal static class FluxAvailability
{
    private static readonly Lazy<string?> s_whyNot = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "Flux runs on Linux only.";
        string? flux = FluxLibrary.FindFluxOnPath();
        if (flux is null) return "flux is not on PATH: install flux-core to run the Flux integration tests.";
        try
        {
            FluxLibrary.Load(null);
        }
        catch (FluxLibraryNotFoundException ex)
        {
            return ex.Message;
        }
        return null;
    });

    /// <summary>Null when flux and libflux-core are here; otherwise the reason the integration tests skip.</summary>
    public static string? WhyNot => s_whyNot.Value;

    /// <summary>
    /// Skips the test where Flux is absent; where the test command provided Flux
    /// (<c>FLUXAPPS_REQUIRE_FLUX=1</c>, set by build/test.sh), a Flux that cannot be used fails it instead.
    /// </summary>
    public static void SkipIfAbsent()
    {
        if (WhyNot is null) return;
        if (Environment.GetEnvironmentVariable("FLUXAPPS_REQUIRE_FLUX") == "1")
            throw new InvalidOperationException("Flux was provided for this run (FLUXAPPS_REQUIRE_FLUX=1) but cannot be used: " + WhyNot);
        Skip.If(true, WhyNot);
    }
}

internal static class TestPaths
{
    /// <summary>Short, so job paths stay readable; under /tmp, which the test brokers share with this process.</summary>
    public static readonly string WorkRoot = Path.Combine("/tmp", "fluxapps-ftests-" + Environment.ProcessId);

    static TestPaths()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { if (Directory.Exists(WorkRoot)) Directory.Delete(WorkRoot, true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
    }

    public static string NewTempDirectory()
    {
        string dir = Path.Combine(WorkRoot, "t-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>A runtime on a private Flux instance of its own, started for a test class and shut down after it.</summary>
public abstract class FluxInstanceFixture : IAsyncLifetime
{
    protected virtual string? LaunchCommand => null;

    public FluxAppsRuntime? Runtime { get; private set; }

    public FluxAppsRuntime Rt => Runtime ?? throw new InvalidOperationException("no Flux runtime (the test should have been skipped)");

    public FluxCallOptions Options => new() { Runtime = Rt };

    internal FluxJobBackend Backend => (FluxJobBackend)Rt.JobBackend;

    /// <summary>The instance's URI, for the flux CLI in assertions.</summary>
    public string Uri => Rt.FluxUri ?? throw new InvalidOperationException("the runtime has no Flux instance");

    public async Task InitializeAsync()
    {
        if (FluxAvailability.WhyNot is not null) return;
        Runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux,
            FluxUri = null,
            FluxLaunchCommand = LaunchCommand,
            WorkingDirectory = TestPaths.WorkRoot,
        });
    }

    public async Task DisposeAsync()
    {
        if (Runtime is not null) await Runtime.DisposeAsync();
    }
}

/// <summary>One broker, sized to this machine (plain <c>flux start</c>).</summary>
public sealed class SingleBrokerFixture : FluxInstanceFixture;

/// <summary>Two brokers on this machine (<c>flux start --test-size=2</c>): a two-node instance for pools.</summary>
public sealed class TwoBrokerFixture : FluxInstanceFixture
{
    protected override string? LaunchCommand => "{flux} start --test-size=2 {program}";
}

/// <summary>Four brokers on this machine (<c>flux start --test-size=4</c>): four "nodes" for placement tests.</summary>
public sealed class FourBrokerFixture : FluxInstanceFixture
{
    protected override string? LaunchCommand => "{flux} start --test-size=4 {program}";
}

/// <summary>Runs the flux CLI against an instance (assertions only: the backend itself never does).</summary>
internal static class FluxCli
{
    public static async Task<string> RunAsync(string uri, params string[] args)
    {
        var psi = new ProcessStartInfo(FluxLibrary.FindFluxOnPath()!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["FLUX_URI"] = uri;
        using var p = Process.Start(psi)!;
        string stdout = await p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"flux {string.Join(' ', args)} failed ({p.ExitCode}): {stderr}");
        return stdout;
    }

    /// <summary>The job's status as <c>flux jobs</c> abbreviates it: CD, CA, F, TO, R, S, ...</summary>
    public static async Task<string> StatusAsync(string uri, FluxJobId id)
    {
        // The job list module catches up with the eventlog asynchronously: wait for an inactive status.
        string status = "";
        for (int i = 0; i < 100; i++)
        {
            status = (await RunAsync(uri, "jobs", "-a", "-n", "-o", "{status_abbrev}", id.ToString())).Trim();
            if (status is "CD" or "CA" or "F" or "TO") return status;
            await Task.Delay(100);
        }
        return status;
    }
}

internal static class Wait
{
    public static async Task ForEvent(FluxFuture future, string name, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!future.Events.Any(e => e.Name == name))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job never logged {name}; events: {string.Join(", ", future.Events.Select(e => e.Name))}");
            if (future.IsCompleted) await future; // surfaces an unexpected failure
            await Task.Delay(10);
        }
    }
}
