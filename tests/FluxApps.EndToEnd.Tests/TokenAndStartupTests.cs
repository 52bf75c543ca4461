using System.Diagnostics;
using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// An app's CancellationToken is cancelled by a cancel or a time limit, in a pool and in a job of its own (there by
/// SIGTERM before SIGKILL), while the caller sees the outcome at once; [FluxWorkerStartup] runs once per worker process.
/// </summary>
public sealed class TokenAndStartupTests
{
    private static Task<FluxAppsRuntime> StartAsync(TimeSpan? idleTimeout = null) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalCores = 2,
            Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = 2, IdleTimeout = idleTimeout }],
        });

    private static async Task WaitForFile(string path, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.True(clock.Elapsed < within, $"{path} did not appear within {within.TotalSeconds} s");
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("", "cancel")]
    [InlineData("", "time limit")]
    [InlineData("p", "cancel")]
    [InlineData("p", "time limit")]
    public async Task TheAppsTokenFiresOnCancelAndTimeLimit(string pool, string how)
    {
        // Idle pool workers end soon, so the last call, which needs every core, need not wait the default 30 s for them.
        await using var rt = await StartAsync(idleTimeout: TimeSpan.FromSeconds(1));
        string marker = Path.Combine(TestPaths.NewTempDirectory(), "cancelled");
        var options = new FluxCallOptions { Runtime = rt, Pool = pool, TimeLimit = how == "time limit" ? "2s" : null };
        var future = TokenApps.WaitForCancellationAsync(marker, options);
        await WaitForFile(marker + ".started", TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
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
        // The caller does not wait for the app to end (nor for the SIGKILL grace)...
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(how == "cancel" ? 2 : 4), $"the outcome took {clock.Elapsed}");
        // ...and the app saw its token fire and ended cleanly, well before it would have been killed.
        await WaitForFile(marker, TimeSpan.FromSeconds(how == "cancel" ? 2 : 4));
        Assert.Equal("cancelled", await File.ReadAllTextAsync(marker));
        // The machine is usable afterwards: its cores came back once the process ended.
        Assert.Equal(3, await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt, Cpus = 2 }).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task StartupRunsOncePerPoolWorkerBeforeItsFirstCall()
    {
        await using var rt = await StartAsync();
        var calls = Enumerable.Range(0, 8).Select(i => TokenApps.StartupRunsAsync(i, new FluxCallOptions { Runtime = rt, Pool = "p" }).AsTask()).ToList();
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.All(results, r => Assert.Equal(1, r[1])); // ran before the first call, and never again in that process
        Assert.InRange(results.Select(r => r[0]).Distinct().Count(), 1, 2);
        // More calls on the same workers: still once per process.
        var later = await TokenApps.StartupRunsAsync(9, new FluxCallOptions { Runtime = rt, Pool = "p" });
        Assert.Equal(1, later[1]);
    }

    [Fact]
    public async Task StartupRunsOnceInAJobOfItsOwn()
    {
        await using var rt = await StartAsync();
        var first = await TokenApps.StartupRunsAsync(1, new FluxCallOptions { Runtime = rt });
        var second = await TokenApps.StartupRunsAsync(2, new FluxCallOptions { Runtime = rt });
        Assert.Equal(1, first[1]);
        Assert.Equal(1, second[1]);
        Assert.NotEqual(first[0], second[0]); // each job is a worker process of its own
    }

    [Fact]
    public async Task AThrowingStartupFailsTheCallNamingTheMethodAndItsException()
    {
        await using var rt = await StartAsync();
        string dir = TestPaths.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, WorkerStartup.ThrowMarker), "");
        var future = TokenApps.StartupRunsAsync(1, new FluxCallOptions { Runtime = rt, WorkingDirectory = dir });
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.IsNotType<TimeoutException>(ex);
        Assert.Contains("FluxApps.TestApps.WorkerStartup.CountRuns", ex.Message);
        Assert.Contains("start-up refused", ex.Message);
    }

    [Fact]
    public async Task AThrowingStartupFailsEveryCallOfThatPoolWorkerNamingTheMethod()
    {
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalCores = 2,
            Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = 1 }],
        });
        await File.WriteAllTextAsync(Path.Combine(rt.WorkingDirectory, WorkerStartup.ThrowMarker), "");
        var pooled = new FluxCallOptions { Runtime = rt, Pool = "p" };
        foreach (int call in new[] { 1, 2 })
        {
            var future = TokenApps.StartupRunsAsync(call, pooled);
            var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.IsNotType<TimeoutException>(ex);
            Assert.Contains("FluxApps.TestApps.WorkerStartup.CountRuns", ex.Message);
            Assert.Contains("start-up refused", ex.Message);
        }
    }
}
