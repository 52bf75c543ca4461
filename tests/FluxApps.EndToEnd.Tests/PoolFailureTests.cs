using FluxApps;
using FluxApps.TestApps;
using FluxApps.Tests.Shared;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// Pools on the local backend where a worker cannot start, is retired while other calls run, or gets a payload larger
/// than a frame: every future completes and the pool keeps serving.
/// </summary>
public sealed class PoolFailureTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(90);

    private static Task<FluxAppsRuntime> StartAsync(FluxPoolOptions pool) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            LocalCores = 2,
            Pools = [pool],
        });

    private static FluxCallOptions In(FluxAppsRuntime rt) => new() { Runtime = rt, Pool = "p" };

    /// <summary>Puts a file where the directory of the runtime's worker number <paramref name="index"/> would go.</summary>
    private static void BlockWorkerDirectory(FluxAppsRuntime rt, int index) =>
        File.WriteAllText(Path.Combine(rt.WorkingDirectory, $"pool-w{index}"), "in the way");

    [Fact]
    public async Task AWorkerRetiredWhileAnotherCallRanIsEndedOnceItsLastCallReturns()
    {
        // Two cores, one worker holding both: a replacement fits only once the retired worker has ended.
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1, CpusPerWorker = 2 });
        var ignoresCancel = Library.SleepAsync(7_000, In(rt)); // takes no token: it runs on past the grace period
        var other = Library.SleepAsync(9_000, In(rt));
        await Eventually.True(() => ignoresCancel.State == FluxJobState.Run && other.State == FluxJobState.Run);
        var first = ignoresCancel.JobId;
        ignoresCancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await ignoresCancel);
        Assert.Equal(9_000, await other.AsTask().WaitAsync(s_bound));
        var next = Library.AddAsync(2, 3, In(rt));
        Assert.Equal(5, await next.AsTask().WaitAsync(s_bound));
        Assert.NotEqual(first, next.JobId); // a replacement: the retired worker went
    }

    [Fact]
    public async Task FailedStartsWhileAWorkerServesDoNotStopThePoolFromGrowingLater()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 2, IdleTimeout = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(2, await Library.AddAsync(1, 1, In(rt)).AsTask().WaitAsync(s_bound)); // worker 1 is up
        for (int index = 2; index <= 4; index++) BlockWorkerDirectory(rt, index);
        // The second call waits for a worker: the next three cannot start, while worker 1 serves both calls in turn.
        var calls = new[] { Library.HoldAsync(2_000, In(rt)), Library.HoldAsync(100, In(rt)) };
        await Task.WhenAll(calls.Select(c => c.AsTask())).WaitAsync(s_bound);
        Assert.Single(calls.Select(c => c.JobId).Distinct());
        await Eventually.True(() => rt.Pools.Find("p")!.WorkerCount == 0); // worker 1 idled out
        Assert.Equal(4, await Library.AddAsync(2, 2, In(rt)).AsTask().WaitAsync(s_bound));
    }

    [Fact]
    public async Task AWorkerWhoseDirectoryCannotBeMadeFailsTheCallsAndTheRuntimeStillEnds()
    {
        var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        for (int index = 1; index <= 3; index++) BlockWorkerDirectory(rt, index);
        try
        {
            var call = Library.AddAsync(1, 1, In(rt));
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await call.AsTask().WaitAsync(s_bound));
            Assert.Equal(FluxJobFailureKind.BackendFailure, ex.Kind);
            Assert.Contains("could not be prepared", ex.Message);
            Assert.Contains("pool-w3", ex.Message);
            Assert.Equal(0, rt.Pools.Find("p")!.WorkerCount);
        }
        finally
        {
            await rt.DisposeAsync().AsTask().WaitAsync(s_bound);
        }
    }

    [Fact]
    public async Task CallsRefusedTogetherWhenWorkersCannotStartEachGetAnExceptionOfTheirOwn()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        for (int index = 1; index <= 3; index++) BlockWorkerDirectory(rt, index);
        var calls = new[] { Library.AddAsync(1, 1, In(rt)), Library.AddAsync(2, 2, In(rt)) };
        var failures = new List<FluxJobException>();
        foreach (var call in calls) failures.Add(await Assert.ThrowsAsync<FluxJobException>(async () => await call.AsTask().WaitAsync(s_bound)));
        Assert.All(failures, f => Assert.Equal(FluxJobFailureKind.BackendFailure, f.Kind));
        Assert.NotSame(failures[0], failures[1]); // a retry of one sets EarlierFailures on its own exception alone
        Assert.Equal(failures[0].Message, failures[1].Message);
    }

    [Fact]
    public async Task AnArgumentLargerThanAFrameTravelsThroughAFileAndTheWorkerKeepsServing()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        var data = new byte[1 << 30]; // a frame holds at most 1 GiB, header included
        for (int i = 0; i < data.Length; i += 4096) data[i] = (byte)(i >> 12);
        data[^1] = 7;
        long expected = ReliabilityApps.FingerprintOf(data);
        var big = ReliabilityApps.FingerprintAsync(data, In(rt));
        data = null;
        Assert.Equal(expected, await big.AsTask().WaitAsync(s_bound));
        var next = Library.AddAsync(1, 2, In(rt));
        Assert.Equal(3, await next.AsTask().WaitAsync(s_bound));
        Assert.Equal(big.JobId, next.JobId); // the same worker: its connection survived
        Assert.Empty(Directory.EnumerateFiles(rt.WorkingDirectory, "*.bin", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AResultLargerThanAFrameTravelsThroughAFileAndTheWorkerKeepsServing()
    {
        await using var rt = await StartAsync(new FluxPoolOptions { Name = "p", MaxWorkers = 1 });
        const int length = (1 << 30) + 16;
        var big = ReliabilityApps.MakeBytesAsync(length, In(rt));
        byte[] result = await big.AsTask().WaitAsync(s_bound);
        Assert.Equal(length, result.Length);
        Assert.Equal((byte)((length - 1) % 251), result[^1]);
        Assert.Equal((byte)(123_456_789 % 251), result[123_456_789]);
        result = [];
        var next = Library.AddAsync(1, 2, In(rt));
        Assert.Equal(3, await next.AsTask().WaitAsync(s_bound));
        Assert.Equal(big.JobId, next.JobId);
        Assert.Empty(Directory.EnumerateFiles(rt.WorkingDirectory, "*.bin", SearchOption.AllDirectories));
    }
}
