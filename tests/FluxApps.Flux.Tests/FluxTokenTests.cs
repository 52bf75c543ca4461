using System.Diagnostics;
using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>
/// On Flux, a cancel or a time limit makes the job shell send the tasks SIGTERM before SIGKILL: the worker turns it
/// into the app's token, so an app on its token ends cleanly; the start-up method runs once in a job's worker.
/// </summary>
public sealed class FluxTokenTests(SingleBrokerFixture fixture) : IClassFixture<SingleBrokerFixture>
{
    private static async Task WaitForFile(string path, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.True(clock.Elapsed < within, $"{path} did not appear within {within.TotalSeconds} s");
            await Task.Delay(20);
        }
    }

    [SkippableTheory]
    [InlineData("cancel")]
    [InlineData("time limit")]
    public async Task TheAppsTokenFiresWhenFluxStopsTheJob(string how)
    {
        FluxAvailability.SkipIfAbsent();
        string marker = Path.Combine(TestPaths.NewTempDirectory(), "cancelled");
        var options = new FluxCallOptions { Runtime = fixture.Rt, TimeLimit = how == "time limit" ? "3s" : null };
        var future = TokenApps.WaitForCancellationAsync(marker, options);
        await WaitForFile(marker + ".started", TimeSpan.FromSeconds(60));
        if (how == "cancel")
        {
            future.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        }
        else
        {
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
            Assert.Equal(FluxJobFailureKind.TimeLimit, ex.Kind);
        }
        await WaitForFile(marker, TimeSpan.FromSeconds(10));
        Assert.Equal("cancelled", await File.ReadAllTextAsync(marker));
    }

    [SkippableFact]
    public async Task StartupRunsOnceInAFluxJobsWorker()
    {
        FluxAvailability.SkipIfAbsent();
        var runs = await TokenApps.StartupRunsAsync(1, fixture.Options);
        Assert.Equal(1, runs[1]);
    }
}
