using System.Text.Json;
using System.Text.Json.Nodes;
using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>
/// A dry run against Flux itself: the jobspec <see cref="FluxDryRun.Describe"/> gives for a call is the jobspec Flux
/// received when the same call ran (<c>flux job info --original ID jobspec</c>: as submitted, environment included), the
/// placeholders standing for the real paths.
/// </summary>
public sealed class DryRunFluxTests(TwoBrokerFixture fixture) : IClassFixture<TwoBrokerFixture>
{
    [SkippableFact]
    public async Task TheDescribedJobspecIsTheOneFluxReceivesForTheSameCall()
    {
        FluxAvailability.SkipIfAbsent();
        var call = new FluxCallOptions
        {
            Runtime = fixture.Rt,
            MpiRanks = 2, Nodes = 2, TimeLimit = "5m", Name = "dry-vs-real", Urgency = 20,
            Environment = new Dictionary<string, string?> { ["DRYRUN_VARIABLE"] = "yes", ["HOME"] = null },
            ShellOptions = new Dictionary<string, string?> { ["cpu-affinity"] = "off" },
            WorkingDirectory = TestPaths.NewTempDirectory(),
        };
        var described = FluxDryRun.Describe(() => PlacementApps.AllowedCpusAsync(call));
        Assert.Null(described.Pool);

        var future = PlacementApps.AllowedCpusAsync(call);
        await future;
        string received = await FluxCli.RunAsync(fixture.Uri, "job", "info", "--original", future.JobId!.Value.ToString(), "jobspec");
        AssertSameJobspec(received, described, described.JobDirectory);
    }

    [SkippableFact]
    public async Task APooledCallsDescriptionIsTheJobspecOfItsPoolsWorkers()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux,
            FluxUri = fixture.Uri,
            WorkingDirectory = TestPaths.WorkRoot,
            Pools = [new FluxPoolOptions { Name = "dry", MaxWorkers = 1, CpusPerWorker = 2, TimeLimit = "10m" }],
            FluxShellOptions = new Dictionary<string, string?> { ["output.limit"] = "1M" },
        });
        var call = new FluxCallOptions { Runtime = rt, Pool = "dry" };
        var described = FluxDryRun.Describe(() => Library.AddAsync(1, 2, call));
        Assert.Equal("dry", described.Pool);

        var future = Library.AddAsync(1, 2, call);
        Assert.Equal(3, await future);
        string received = await FluxCli.RunAsync(fixture.Uri, "job", "info", "--original", future.JobId!.Value.ToString(), "jobspec"); // the worker's job
        AssertSameJobspec(received, described, described.JobDirectory, "FLUXAPPS_POOL_FLUX_SERVICE", "FLUXAPPS_POOL_SECRET", "FLUXAPPS_POOL_WORKER");
    }

    /// <summary>
    /// Compares after putting the real values where the description has placeholders: the job directory (which
    /// <c>FLUXAPPS_JOB_DIR</c> names in both) and the variables named.
    /// </summary>
    private static void AssertSameJobspec(string received, FluxJobDescription described, string placeholderDirectory, params string[] placeholderVariables)
    {
        var real = JsonNode.Parse(received)!;
        var environment = real["attributes"]!["system"]!["environment"]!.AsObject();
        string realDirectory = environment["FLUXAPPS_JOB_DIR"]!.GetValue<string>();
        var expected = JsonNode.Parse(described.ToJson(indented: false).Replace(placeholderDirectory, realDirectory, StringComparison.Ordinal))!;
        var expectedEnvironment = expected["attributes"]!["system"]!["environment"]!.AsObject();
        foreach (string variable in placeholderVariables)
        {
            Assert.StartsWith("<", expectedEnvironment[variable]!.GetValue<string>());
            expectedEnvironment[variable] = environment[variable]!.GetValue<string>();
        }
        Assert.True(JsonNode.DeepEquals(expected, real),
            $"described:\n{expected.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}\nreceived:\n{real.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }
}
