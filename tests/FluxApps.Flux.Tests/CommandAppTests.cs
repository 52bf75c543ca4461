using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>Command apps on Flux: the program is the job's tasks, launched by Flux's shell with PMI.</summary>
public sealed class CommandAppTests(FourBrokerFixture fixture) : IClassFixture<FourBrokerFixture>
{
    [SkippableFact]
    public async Task AnMpiStyleProgramRunsAsFourRanksOverTwoNodesUnderFluxPmi()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        var future = MpiCommandApps.PmiBarrierAsync(new FluxCallOptions { Runtime = fixture.Rt, WorkingDirectory = dir });
        var result = await future;
        string stderr = result.ReadStderr();
        Assert.True(result.Succeeded, $"exit {result.ExitCode}: {stderr}");
        Assert.Equal(future.JobId, result.JobId);
        // Each of the 4 ranks initialized PMI with the job's size, and all met at the barrier.
        for (int rank = 0; rank < 4; rank++)
            Assert.Contains($"rank={rank} size=4", stderr);
        Assert.Contains("completed pmi barrier on 4 tasks", result.ReadStdout() + stderr);
        Assert.Equal("2", (await FluxCli.RunAsync(fixture.Uri, "jobs", "-a", "-n", "-o", "{nnodes}", result.JobId.ToString())).Trim());
    }

    [SkippableFact]
    public async Task EveryRankRunsTheCommandAndTheCallYieldsExitCodeAndOutputPaths()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        var result = await CommandApps.GreetAsync("flux", new FluxCallOptions { Runtime = fixture.Rt, WorkingDirectory = dir });
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(dir, Path.GetDirectoryName(result.StdoutPath));
        var lines = result.ReadStdout().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();
        Assert.Equal(["rank 0 of 2: flux hello", "rank 1 of 2: flux hello"], lines);

        var failed = await CommandApps.ExitWithAsync(5, new FluxCallOptions { Runtime = fixture.Rt, WorkingDirectory = dir });
        Assert.Equal(5, failed.ExitCode);
        Assert.Contains("failing", failed.ReadStderr());
    }

    [SkippableFact]
    public async Task ACommandsExitAbove128IsReportedAsTheShellSawIt()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        // One task: only the finish event tells, and Flux's shell folds signal N into 128 + N, so no signal is guessed.
        var exited = await CommandApps.ExitWithAsync(130, new FluxCallOptions { Runtime = fixture.Rt, WorkingDirectory = dir });
        Assert.Equal((130, (int?)null), (exited.ExitCode, exited.Signal));
        Assert.False(exited.Succeeded);
    }

    [SkippableFact]
    public async Task CancellingACommandAppCancelsTheFluxJob()
    {
        FluxAvailability.SkipIfAbsent();
        string dir = TestPaths.NewTempDirectory();
        using var cts = new CancellationTokenSource();
        var future = CommandApps.SleepAsync(60, new FluxCallOptions { Runtime = fixture.Rt, WorkingDirectory = dir }, cts.Token);
        await Wait.ForEvent(future, "start");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        Assert.Equal("CA", await FluxCli.StatusAsync(fixture.Uri, future.JobId!.Value));
    }
}
