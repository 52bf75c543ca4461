using System.Diagnostics;
using FluxApps;
using FluxApps.Runtime;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Cached apps: a stored result is returned without running, across runtimes, once per key.</summary>
public sealed class CheckpointTests : IAsyncLifetime
{
    private readonly string _dir = TestPaths.NewTempDirectory();
    private FluxAppsRuntime _runtime = null!;

    private string CheckpointDirectory => Path.Combine(_dir, "checkpoints");

    private string CounterFile => Path.Combine(_dir, "runs");

    private FluxCallOptions Options => new() { Runtime = _runtime };

    public async Task InitializeAsync() => _runtime = await StartRuntime();

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<FluxAppsRuntime> StartRuntime() => FluxAppsRuntime.StartAsync(new FluxAppsOptions
    {
        Backend = FluxBackend.Local,
        WorkingDirectory = TestPaths.WorkRoot,
        CheckpointDirectory = CheckpointDirectory,
    });

    [Fact]
    public async Task ASecondCallWithTheSameArgumentsIsServedWithoutRunning()
    {
        var first = CachedApps.SquareAsync(CounterFile, 7, 0, Options);
        Assert.Equal(49, await first);
        Assert.False(first.FromCache);
        Assert.Equal(1, first.Attempts);

        var second = CachedApps.SquareAsync(CounterFile, 7, 0, Options);
        Assert.Equal(49, await second);
        Assert.True(second.FromCache);
        Assert.Equal(0, second.Attempts);
        Assert.Null(second.JobId);
        Assert.Equal(FluxJobState.Inactive, second.State);
        Assert.Contains(second.Events, e => e.Name == "cache-hit");
        await Assert.ThrowsAsync<InvalidOperationException>(() => second.Submitted);
        Assert.Equal(1, Counter.Read(CounterFile)); // the app ran once

        Assert.Equal(64, await CachedApps.SquareAsync(CounterFile, 8, 0, Options)); // other arguments: a new key
        Assert.Equal(2, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task RecordAndVoidResultsAreServedToo()
    {
        var stats = await CachedApps.DescribeAsync(CounterFile, [1, 2, 3], Options);
        var again = CachedApps.DescribeAsync(CounterFile, [1, 2, 3], Options);
        Assert.Equal(stats, await again);
        Assert.True(again.FromCache);

        await CachedApps.TouchAsync(CounterFile, Options);
        var touch = CachedApps.TouchAsync(CounterFile, Options);
        await touch;
        Assert.True(touch.FromCache);
        Assert.Equal(2, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task ANewRuntimeOnTheSameDirectoryResumesWhereTheFirstStopped()
    {
        foreach (long x in new long[] { 1, 2, 3 }) await CachedApps.SquareAsync(CounterFile, x, 0, Options);
        await _runtime.DisposeAsync();
        Assert.Equal(3, Counter.Read(CounterFile));

        _runtime = await StartRuntime(); // as a rerun of the program would
        var futures = new long[] { 1, 2, 3, 4, 5 }.Select(x => CachedApps.SquareAsync(CounterFile, x, 0, Options)).ToList();
        long[] values = await Task.WhenAll(futures.Select(f => f.AsTask()));
        Assert.Equal(new long[] { 1, 4, 9, 16, 25 }, values);
        Assert.Equal(new[] { true, true, true, false, false }, futures.Select(f => f.FromCache));
        Assert.Equal(5, Counter.Read(CounterFile)); // only the missing ones ran

        if (OperatingSystem.IsWindows()) return;
        var privateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(privateDirectory, File.GetUnixFileMode(CheckpointDirectory));
        var entries = Directory.GetFiles(CheckpointDirectory, "*", SearchOption.AllDirectories);
        Assert.Equal(5, entries.Length);
        Assert.All(entries, e => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(e)));
        Assert.All(entries, e => Assert.StartsWith("CachedApps.Square-", Path.GetFileName(Path.GetDirectoryName(e))));
    }

    [Fact]
    public async Task ConcurrentIdenticalCallsRunOnce()
    {
        var futures = Enumerable.Range(0, 3).Select(_ => CachedApps.SquareAsync(CounterFile, 12, 1500, Options)).ToList();
        Assert.All(await Task.WhenAll(futures.Select(f => f.AsTask())), v => Assert.Equal(144, v));
        Assert.Equal(1, Counter.Read(CounterFile));
        _ = Assert.Single(futures, f => !f.FromCache); // the one future that ran (itself awaitable: discarded on purpose)
        Assert.Equal(1, futures.Sum(f => f.Attempts));
    }

    [Fact]
    public async Task IdenticalCallsOnTwoRuntimesOfOneProcessRunOnce()
    {
        await using var other = await StartRuntime(); // same checkpoint directory
        var first = CachedApps.SquareAsync(CounterFile, 13, 1500, Options);
        var second = CachedApps.SquareAsync(CounterFile, 13, 1500, new FluxCallOptions { Runtime = other });
        Assert.Equal(169, await first);
        Assert.Equal(169, await second);
        Assert.Equal(1, Counter.Read(CounterFile));
        Assert.True(second.FromCache);
    }

    [Fact]
    public async Task CancellingACallThatWaitsForAnIdenticalOneLeavesThatOneRunning()
    {
        var leader = CachedApps.SquareAsync(CounterFile, 3, 1500, Options);
        using var cts = new CancellationTokenSource();
        var follower = CachedApps.SquareAsync(CounterFile, 3, 1500, Options, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await follower);
        Assert.Equal(9, await leader);
        Assert.Equal(1, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task ACallThatWaitedForAnIdenticalFailingOneGetsAnExceptionOfItsOwn()
    {
        var leader = CachedApps.FailsAsync(CounterFile, Options);
        var follower = CachedApps.FailsAsync(CounterFile, Options);
        var first = await Assert.ThrowsAsync<FluxAppException>(async () => await leader);
        var second = await Assert.ThrowsAsync<FluxAppException>(async () => await follower);
        Assert.Equal(1, Counter.Read(CounterFile)); // the follower did wait for the leader
        Assert.NotSame(first, second); // what one caller sets on its exception (EarlierFailures) never shows in the other's
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(first.RemoteStackTrace, second.RemoteStackTrace);
    }

    [Fact]
    public async Task ExceptionsAreNeverStored()
    {
        await Assert.ThrowsAsync<FluxAppException>(async () => await CachedApps.FailsAsync(CounterFile, Options));
        var again = CachedApps.FailsAsync(CounterFile, Options);
        await Assert.ThrowsAsync<FluxAppException>(async () => await again);
        Assert.False(again.FromCache);
        Assert.Equal(2, Counter.Read(CounterFile));
        Assert.False(Directory.Exists(CheckpointDirectory) && Directory.GetFiles(CheckpointDirectory, "*", SearchOption.AllDirectories).Length > 0);
    }

    [Fact]
    public async Task CacheFalseForcesARecomputeAndPerCallCacheTurnsCachingOn()
    {
        await CachedApps.SquareAsync(CounterFile, 4, 0, Options);
        var forced = CachedApps.SquareAsync(CounterFile, 4, 0, new FluxCallOptions { Runtime = _runtime, Cache = false });
        Assert.Equal(16, await forced);
        Assert.False(forced.FromCache);
        Assert.Equal(2, Counter.Read(CounterFile));

        await CachedApps.PlainAsync(CounterFile, 1, Options);
        await CachedApps.PlainAsync(CounterFile, 1, Options); // not cached by its attribute
        Assert.Equal(4, Counter.Read(CounterFile));
        var on = new FluxCallOptions { Runtime = _runtime, Cache = true };
        await CachedApps.PlainAsync(CounterFile, 1, on);
        var served = CachedApps.PlainAsync(CounterFile, 1, on);
        Assert.Equal(2, await served);
        Assert.True(served.FromCache);
        Assert.Equal(5, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task ACorruptedEntryIsRecomputedAndReplaced()
    {
        await CachedApps.SquareAsync(CounterFile, 6, 0, Options);
        string entry = Directory.GetFiles(CheckpointDirectory, "*", SearchOption.AllDirectories).Single();
        byte[] bytes = File.ReadAllBytes(entry);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(entry, bytes);

        var recomputed = CachedApps.SquareAsync(CounterFile, 6, 0, Options);
        Assert.Equal(36, await recomputed);
        Assert.False(recomputed.FromCache);
        var served = CachedApps.SquareAsync(CounterFile, 6, 0, Options);
        Assert.Equal(36, await served);
        Assert.True(served.FromCache);
        Assert.Equal(2, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task ACallMadeRightAfterAnIdenticalOneCompletedReadsTheStoreNotTheFinishedCall()
    {
        // The finished call leaves the in-flight table on a continuation that may run after the
        // caller resumes: a call made at once must still go by the store (here: a corrupted entry).
        for (int x = 0; x < 12; x++)
        {
            var before = Entries();
            await CachedApps.SquareAsync(CounterFile, x, 0, Options);
            string entry = Entries().Except(before).Single();
            File.WriteAllBytes(entry, [1, 2, 3]);
            var again = CachedApps.SquareAsync(CounterFile, x, 0, Options);
            Assert.Equal(x * x, await again);
            Assert.False(again.FromCache, $"x = {x}: served from the finished call instead of rerunning past the corrupted entry");
        }
        Assert.Equal(24, Counter.Read(CounterFile));

        string[] Entries() => Directory.Exists(CheckpointDirectory)
            ? Directory.GetFiles(CheckpointDirectory, "*", SearchOption.AllDirectories) : [];
    }

    [Fact]
    public void ACommandAppCannotBeCached()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
        {
            _ = CachedApps.EchoAsync("hi", new FluxCallOptions { Runtime = _runtime, Cache = true });
        });
        Assert.Equal("Cache", ex.ParamName);
        Assert.Contains("CachedApps.Echo", ex.Message);
        Assert.Equal(0, _runtime.PendingCount);
    }

    [Fact]
    public async Task RetriesAndCacheTogetherStoreTheRetriedSuccess()
    {
        var options = new FluxCallOptions { Runtime = _runtime, Cache = true };
        var first = RetryApps.FailTimesAsync(CounterFile, 1, "exit", options);
        Assert.Equal(2, await first);
        Assert.Equal(2, first.Attempts);
        var second = RetryApps.FailTimesAsync(CounterFile, 1, "exit", options);
        Assert.Equal(2, await second);
        Assert.True(second.FromCache);
        Assert.Equal(0, second.Attempts);
    }

    [Fact]
    public async Task ACheckpointDirectoryThatCannotBeUsedFailsTheCallAtOnceAndLeavesNothingPending()
    {
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = TestPaths.WorkRoot,
            CheckpointDirectory = "checkpoints\0here", // no file system takes NUL in a path
        });
        var events = runtime.WatchEventsAsync();
        Assert.ThrowsAny<ArgumentException>(() => { _ = CachedApps.SquareAsync(CounterFile, 3, 0, new FluxCallOptions { Runtime = runtime }); });
        Assert.Equal(0, runtime.PendingCount);
        Assert.True(runtime.WhenIdleAsync(CancellationToken.None).IsCompleted); // the future the caller never saw ended too
        await runtime.DisposeAsync();
        var seen = new List<FluxCallEvent>();
        await foreach (var e in events) seen.Add(e);
        Assert.Equal([FluxCallEventKind.Submitted, FluxCallEventKind.Completed], seen.Select(e => e.Kind));
        Assert.Equal(FluxCallOutcome.Failed, seen[^1].Outcome);
    }
}
