using FluxApps;
using FluxApps.Runtime;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>
/// The reactor thread never waits on a file system: while one call's end is stuck on slow file work (its result
/// read, its files removed, a checkpoint flushed; injected here), other jobs are submitted and their events arrive.
/// </summary>
public sealed class ReactorTests
{
    private static readonly TimeSpan s_stall = TimeSpan.FromSeconds(6);

    /// <summary>Starts <paramref name="stuck"/> with the file system stalled, waits until its end is stuck, then runs a job of its own.</summary>
    private static async Task AssertAJobRunsWhileACallsEndIsStuck(FluxAppsRuntime rt, Func<FluxFuture> stuck)
    {
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnStalling() => stalled.TrySetResult();
        FileSystemStall.Stalling += OnStalling;
        FileSystemStall.Injected = s_stall;
        try
        {
            var slow = stuck();
            await stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var other = Library.AddAsync(3, 4, new FluxCallOptions { Runtime = rt });
            await Wait.ForEvent(other, "start");
            Assert.False(slow.IsCompleted, "the other job was submitted and started only after the stuck call's end: the reactor waited on it");
            FileSystemStall.Injected = TimeSpan.Zero;
            await slow.AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(7, await other.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            FileSystemStall.Injected = TimeSpan.Zero;
            FileSystemStall.Stalling -= OnStalling;
        }
    }

    [SkippableFact]
    public async Task AJobsSlowEndDoesNotHoldUpOtherJobs()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, WorkingDirectory = TestPaths.WorkRoot });
        await AssertAJobRunsWhileACallsEndIsStuck(rt, () => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }));
    }

    [SkippableFact]
    public async Task APooledCallsSlowEndDoesNotHoldUpOtherJobs()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux,
            WorkingDirectory = TestPaths.WorkRoot,
            Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = 1, CpusPerWorker = 1 }],
        });
        Assert.Equal(2, await Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt, Pool = "p" })); // the worker is up
        await AssertAJobRunsWhileACallsEndIsStuck(rt, () => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt, Pool = "p" }));
    }
}
