using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>Retries and checkpoints on real Flux jobs: each attempt is a Flux job of its own.</summary>
public sealed class FluxRetryTests(SingleBrokerFixture fixture) : IClassFixture<SingleBrokerFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fluxapps-retry-").FullName;

    private string CounterFile => Path.Combine(_dir, "runs");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task AJobKilledFromOutsideIsResubmittedAsANewFluxJob()
    {
        FluxAvailability.SkipIfAbsent();
        var future = RetryApps.SlowFirstTimeAsync(CounterFile, fixture.Options);
        // Kill it once the app itself runs (the job's start event comes before its tasks do, and a signal then is lost).
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (Counter.Read(CounterFile) == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, Counter.Read(CounterFile));
        FluxJobId first = future.JobId!.Value;
        await FluxCli.RunAsync(fixture.Uri, "job", "kill", "--signal=SIGKILL", first.ToString());

        Assert.Equal(2, await future);
        Assert.Equal(2, future.Attempts);
        Assert.NotEqual(first, future.JobId);
        Assert.Equal(first, await future.Submitted);
        var retry = Assert.Single(future.Events, e => e.Name == "retry");
        Assert.Contains("Signaled (signal 9)", retry.Context);
        // Flux itself saw two jobs: the killed one failed, the resubmitted one completed.
        Assert.Equal("F", await FluxCli.StatusAsync(fixture.Uri, first));
        Assert.Equal("CD", await FluxCli.StatusAsync(fixture.Uri, future.JobId!.Value));
    }

    [SkippableFact]
    public async Task ATaskThatKillsItselfIsRetriedAndExhaustedRetriesKeepEveryFailure()
    {
        FluxAvailability.SkipIfAbsent();
        var future = RetryApps.FailTimesAsync(CounterFile, 1, "kill", fixture.Options);
        Assert.Equal(2, await future);
        Assert.Equal(2, future.Attempts);

        File.Delete(CounterFile);
        var failing = RetryApps.FailTimesNoRetriesAsync(CounterFile, 10, "exit", new FluxCallOptions { Runtime = fixture.Rt, Retries = 1 });
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await failing);
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Equal(2, failing.Attempts);
        var earlier = Assert.IsType<FluxJobException>(Assert.Single(ex.EarlierFailures));
        Assert.NotEqual(ex.JobId, earlier.JobId);
    }

    [SkippableFact]
    public async Task AnUnsatisfiableRequestIsNotRetried()
    {
        FluxAvailability.SkipIfAbsent();
        var future = RetryApps.HugeWithRetriesAsync(fixture.Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Equal(1, future.Attempts);
    }

    [SkippableFact]
    public async Task ACachedResultIsServedWithoutAFluxJob()
    {
        FluxAvailability.SkipIfAbsent();
        await using var checkpoint = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux, FluxUri = fixture.Uri, CheckpointDirectory = Path.Combine(_dir, "checkpoints"),
        });
        var first = CachedApps.SquareAsync(CounterFile, 11, 0, new FluxCallOptions { Runtime = checkpoint });
        Assert.Equal(121, await first);
        Assert.NotNull(first.JobId);
        var second = CachedApps.SquareAsync(CounterFile, 11, 0, new FluxCallOptions { Runtime = checkpoint });
        Assert.Equal(121, await second);
        Assert.True(second.FromCache);
        Assert.Null(second.JobId);
        Assert.Equal(1, Counter.Read(CounterFile));
    }
}
