using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Calls that fail for a system reason are resubmitted as new jobs; other failures are final at once.</summary>
public sealed class RetryTests(LocalRuntimeFixture fixture) : IClassFixture<LocalRuntimeFixture>, IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory();

    private string CounterFile => Path.Combine(_dir, "runs");

    private FluxCallOptions Options => fixture.Options;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("exit", 1)]
    [InlineData("exit", 3)]
    [InlineData("kill", 2)]
    public async Task ACallThatCrashesOnItsFirstAttemptsSucceedsOnALaterOne(string how, int failures)
    {
        var future = RetryApps.FailTimesAsync(CounterFile, failures, how, Options);
        Assert.Equal(failures + 1, await future);
        Assert.Equal(failures + 1, future.Attempts);
        Assert.Equal(failures + 1, Counter.Read(CounterFile));
        Assert.False(future.FromCache);
        // Each attempt is a job of its own; the id follows the last one, the events show them all.
        var events = future.Events.Select(e => e.Name).ToList();
        Assert.Equal(failures, events.Count(n => n == "retry"));
        Assert.Equal(failures + 1, events.Count(n => n == "submit"));
        var retry = future.Events.First(e => e.Name == "retry");
        Assert.Contains("attempt 2 of 4", retry.Context);
        Assert.Contains(how == "kill" ? "Signaled (signal 9)" : "Exited (code 3)", retry.Context);
        Assert.NotEqual<FluxJobId?>(await future.Submitted, future.JobId);
    }

    [Fact]
    public async Task ExhaustedRetriesGiveTheLastFailureWithTheEarlierOnesAttached()
    {
        var future = RetryApps.FailTimesNoRetriesAsync(CounterFile, 10, "exit", new FluxCallOptions { Runtime = fixture.Runtime, Retries = 2 });
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Equal(3, ex.ExitCode);
        Assert.Equal(future.JobId, ex.JobId);
        Assert.Equal(3, future.Attempts);
        Assert.Equal(3, Counter.Read(CounterFile));
        Assert.Equal(2, ex.EarlierFailures.Count);
        var earlier = ex.EarlierFailures.Cast<FluxJobException>().ToList();
        Assert.All(earlier, e => Assert.Equal(FluxJobFailureKind.Exited, e.Kind));
        Assert.Equal(3, new[] { ex.JobId, earlier[0].JobId, earlier[1].JobId }.Distinct().Count());
        Assert.Contains("earlier attempts failed", ex.Message);
        Assert.Contains("run 1: failing by exit", earlier[0].StderrTail);
    }

    [Fact]
    public async Task WithoutRetriesACrashIsFinalAtOnce()
    {
        var future = RetryApps.FailTimesNoRetriesAsync(CounterFile, 1, "exit", Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Empty(ex.EarlierFailures);
        Assert.Equal(1, future.Attempts);
        Assert.DoesNotContain("earlier attempts", ex.Message);
    }

    [Fact]
    public async Task PerCallRetriesOverrideTheAttribute()
    {
        var future = RetryApps.FailTimesAsync(CounterFile, 1, "exit", new FluxCallOptions { Runtime = fixture.Runtime, Retries = 0 });
        await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(1, future.Attempts);
    }

    [Fact]
    public async Task AnAppExceptionIsNotRetriedByDefault()
    {
        var future = RetryApps.FailTimesAsync(CounterFile, 1, "throw", Options); // Retries = 3, RetryOnAppException false
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await future);
        Assert.Equal("System.InvalidOperationException", ex.RemoteType);
        Assert.Equal(1, future.Attempts);
        Assert.Equal(1, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task AnAppExceptionIsRetriedWithRetryOnAppException()
    {
        var future = RetryApps.ThrowTimesAsync(CounterFile, 2, Options);
        Assert.Equal(3, await future);
        Assert.Equal(3, future.Attempts);

        File.Delete(CounterFile);
        var failing = RetryApps.ThrowTimesAsync(CounterFile, 5, Options);
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await failing);
        Assert.Equal(3, failing.Attempts);
        Assert.Equal("run 3 fails", ex.RemoteMessage);
        Assert.Equal(["run 1 fails", "run 2 fails"], ex.EarlierFailures.Cast<FluxAppException>().Select(e => e.RemoteMessage));
    }

    [Fact]
    public async Task ATimeLimitIsNeverRetried()
    {
        var future = RetryApps.SleepPastLimitCountedAsync(CounterFile, Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.TimeLimit, ex.Kind);
        Assert.Equal(1, future.Attempts);
        Assert.Equal(1, Counter.Read(CounterFile));
    }

    [Fact]
    public async Task ARejectionIsNeverRetried()
    {
        var future = RetryApps.HugeWithRetriesAsync(Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Equal(1, future.Attempts);
        Assert.DoesNotContain(future.Events, e => e.Name == "retry");
    }

    [Fact]
    public async Task CancellingDuringTheWaitBeforeARetryCancelsTheCall()
    {
        using var cts = new CancellationTokenSource();
        var future = RetryApps.FailTimesNoRetriesAsync(CounterFile, 10, "exit", new FluxCallOptions { Runtime = fixture.Runtime, Retries = 5 }, cts.Token);
        // The handler runs as the wait starts, before the next job could be submitted.
        future.JobEvent += (_, e) => { if (e.Name == "retry") cts.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        Assert.Equal(1, future.Attempts);
        Assert.Equal(1, Counter.Read(CounterFile));
        Assert.Equal(FluxJobState.Inactive, future.State);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-20)]
    public void NegativeRetriesThrowArgumentExceptionNamingTheValue(int retries)
    {
        int pending = fixture.Runtime.PendingCount;
        var ex = Assert.Throws<ArgumentException>(() =>
        {
            _ = RetryApps.FailTimesAsync(CounterFile, 0, "exit", new FluxCallOptions { Runtime = fixture.Runtime, Retries = retries });
        });
        Assert.Contains($"Retries = {retries}", ex.Message);
        Assert.Equal("Retries", ex.ParamName);
        Assert.Equal(pending, fixture.Runtime.PendingCount);
        Assert.Equal(0, Counter.Read(CounterFile));
    }
}
