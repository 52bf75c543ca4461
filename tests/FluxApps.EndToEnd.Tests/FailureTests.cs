using System.Diagnostics;
using System.Runtime.InteropServices;
using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Every way a call can fail completes its future with the right exception, never a hang.</summary>
public sealed class FailureTests(LocalRuntimeFixture fixture) : FailureTestsBase<LocalRuntimeFixture>(fixture);

/// <summary>The same tests with ranks started through System.Diagnostics.Process (systems without pidfds).</summary>
public sealed class FailureTestsWithProcessSpawn(ProcessSpawnRuntimeFixture fixture) : FailureTestsBase<ProcessSpawnRuntimeFixture>(fixture);

public abstract class FailureTestsBase<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : LocalRuntimeFixture
{
    private FluxCallOptions Options => fixture.Options;

    [Fact]
    public async Task RemoteExceptionComesBackWithTypeMessageAndStackTrace()
    {
        var future = Library.FailAsync("boom on the node", Options);
        var ex = await Assert.ThrowsAsync<FluxAppException>(async () => await future);
        Assert.Equal("System.InvalidOperationException", ex.RemoteType);
        Assert.Equal("boom on the node", ex.RemoteMessage);
        Assert.Contains("Library.Fail", ex.RemoteStackTrace);
        Assert.Equal(future.JobId, ex.JobId);
        Assert.Equal(0, ex.Rank);
        Assert.Contains("boom on the node", ex.Message);
    }

    [Fact]
    public async Task WorkerExitWithoutResultGivesExitCodeAndStderrTail()
    {
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.ExitWithAsync(3, Options));
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Equal(3, ex.ExitCode);
        Assert.Contains("about to exit with 3", ex.StderrTail);
    }

    [Fact]
    public async Task WorkerKilledBySignalGivesTheSignal()
    {
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.CrashAsync(Options));
        Assert.Equal(FluxJobFailureKind.Signaled, ex.Kind);
        Assert.Equal(6, ex.Signal); // FailFast aborts: SIGABRT
        Assert.Contains("about to crash", ex.StderrTail);
    }

    [Fact]
    public async Task AnExitCodeAbove128IsAnExitNotASignal()
    {
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.ExitWithAsync(130, Options));
        Assert.Equal(FluxJobFailureKind.Exited, ex.Kind);
        Assert.Equal(130, ex.ExitCode);
        Assert.Null(ex.Signal);
    }

    [Fact]
    public async Task ARealSignalStaysASignal()
    {
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.SignalSelfAsync(9, Options));
        Assert.Equal(FluxJobFailureKind.Signaled, ex.Kind);
        Assert.Equal(9, ex.Signal);
        Assert.Null(ex.ExitCode);
        Assert.Contains("about to send myself signal 9", ex.StderrTail);
    }

    [Fact]
    public async Task ACommandKilledBySignalSaysSoAndAnExitAbove128StaysAnExit()
    {
        var exited = await CommandApps.ExitWithAsync(130, Options);
        Assert.Equal((130, (int?)null), (exited.ExitCode, exited.Signal));
        string pidFile = Path.Combine(TestPaths.NewTempDirectory(), "pid");
        var killed = CommandApps.WritePidThenSleepAsync(pidFile, 60, Options);
        int pid = await ReadPid(pidFile);
        LibC.kill(pid, 15);
        var result = await killed.AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        if (fixture.StartsWithProcess)
            Assert.Equal((143, (int?)null), (result.ExitCode, result.Signal)); // Process folds: documented in FluxCommandResult
        else
            Assert.Equal((143, (int?)15), (result.ExitCode, result.Signal));
    }

    [Fact]
    public async Task AStatusSomethingElseReapedIsAFailureUnlessTheWorkerRecordedItsExit()
    {
        if (fixture.StartsWithProcess) return; // System.Diagnostics.Process reaps its own children
        var spawner = Backends.NativeSpawner.Shared!;
        object gate = spawner.Gate;
        string dir = TestPaths.NewTempDirectory();
        try
        {
            // A command app's program records nothing: an unreadable status is a failure, not a success.
            string commandPid = Path.Combine(dir, "command");
            var command = CommandApps.WritePidThenSleepAsync(commandPid, 1, Options);
            int pid = await ReadPid(commandPid);
            lock (gate) LibC.waitpid(pid, out _, 0); // the reaper finds nothing left to read: ECHILD
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await command.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(FluxJobFailureKind.BackendFailure, ex.Kind);
            Assert.Contains("ECHILD", ex.Message);

            // A worker records its own exit code: that proves how it ended.
            string workerPid = Path.Combine(dir, "worker");
            var worker = Library.WritePidThenSleepAsync(workerPid, 1000, Options);
            pid = await ReadPid(workerPid);
            lock (gate) LibC.waitpid(pid, out _, 0);
            Assert.Equal(1000, await worker.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    internal static async Task<int> ReadPid(string path)
    {
        for (int i = 0; i < 600; i++)
        {
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out int pid)) return pid;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no pid in {path}");
    }

    [Fact]
    public async Task RequestThatCanNeverFitIsRejectedAtOnce()
    {
        var clock = Stopwatch.StartNew();
        var future = Library.HugeAsync(Options);
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future);
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Contains("100000", ex.Message);
        Assert.Contains("unsatisfiable", ex.FluxExceptionText);
        Assert.True(future.IsCompleted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30)); // not stuck in the queue
    }

    [Fact]
    public async Task MoreNodesThanTheMachineHasIsRejected()
    {
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () =>
            await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Nodes = 2, MpiRanks = 2 }));
        Assert.Equal(FluxJobFailureKind.Rejected, ex.Kind);
        Assert.Contains("Nodes = 2", ex.Message);
    }

    [Theory]
    [InlineData(0, null, null, "Cpus = 0")]
    [InlineData(null, -1, null, "Gpus = -1")]
    [InlineData(null, null, 0, "MpiRanks = 0")]
    public void InvalidOverridesThrowArgumentExceptionBeforeAnythingRuns(int? cpus, int? gpus, int? ranks, string expected)
    {
        int pending = fixture.Runtime.PendingCount;
        var ex = Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Cpus = cpus, Gpus = gpus, MpiRanks = ranks }));
        Assert.Contains(expected, ex.Message);
        Assert.Equal(pending, fixture.Runtime.PendingCount);
    }

    [Fact]
    public void InvalidTimeLimitUrgencyAndExclusiveOverridesAreRejected()
    {
        Assert.Contains("TimeLimit = \"soon\"", Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, TimeLimit = AtRunTime("soon") })).Message);
        Assert.Contains("Urgency = 32", Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Urgency = AtRunTime(32) })).Message);
        Assert.Contains("Exclusive", Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Exclusive = AtRunTime(true) })).Message);
        Assert.Contains("Nodes = 3 exceeds MpiRanks = 2", Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Nodes = AtRunTime(3), MpiRanks = 2 })).Message);
    }

    [Theory]
    [InlineData("", "name \"\" is not valid")]
    [InlineData("A=B", "name \"A=B\" is not valid")]
    public void InvalidEnvironmentVariableNamesAreRejectedBeforeSubmission(string name, string expected)
    {
        int pending = fixture.Runtime.PendingCount;
        var env = new Dictionary<string, string?> { [name] = "x" };
        var ex = Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Environment = env }));
        Assert.Contains(expected, ex.Message);
        Assert.Equal("Environment", ex.ParamName);
        Assert.Equal(pending, fixture.Runtime.PendingCount);
        var nul = new Dictionary<string, string?> { ["OK"] = "a\0b" };
        Assert.Contains("OK contains NUL", Rejects(() => Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, Environment = nul })).Message);
    }

    [Fact]
    public async Task CancellingTheTokenKillsTheRunningWorker()
    {
        using var cts = new CancellationTokenSource();
        var future = Library.SleepAsync(60_000, Options, cts.Token);
        await WaitForState(future, FluxJobState.Run);
        await Task.Delay(300); // let the worker really start
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        // Far less than the app's 60 s: the worker was killed, not waited for (generous, for loaded CI machines).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"cancellation took {clock.Elapsed}");
        Assert.Contains(future.Events, e => e.Name == "exception" && e.Context.Contains("cancel"));
        // The worker is gone: its cores come back, so the next call runs.
        Assert.Equal(3, await Library.AddAsync(1, 2, Options).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task FutureCancelRemovesAQueuedJob()
    {
        await using var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = 1, WorkingDirectory = TestPaths.WorkRoot });
        var busy = Library.SleepAsync(2000, new FluxCallOptions { Runtime = rt });
        var queued = Library.AddAsync(1, 1, new FluxCallOptions { Runtime = rt });
        await WaitForState(busy, FluxJobState.Run);
        Assert.Equal(FluxJobState.Sched, queued.State);
        queued.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queued);
        Assert.DoesNotContain(queued.Events, e => e.Name == "start");
        Assert.Equal(2000, await busy);
    }

    [Fact]
    public async Task AlreadyCancelledTokenNeverSubmits()
    {
        var future = Library.AddAsync(1, 2, Options, new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
        Assert.Null(future.JobId);
    }

    [Fact]
    public async Task TimeLimitKillsTheJob()
    {
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await Library.SleepPastLimitAsync(30_000, Options));
        Assert.Equal(FluxJobFailureKind.TimeLimit, ex.Kind);
        Assert.Contains("1s", ex.Message);
    }

    [Fact]
    public async Task PayloadFromAnotherBuildIsRefused()
    {
        var future = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, KeepFiles = true });
        Assert.Equal(3, await future);
        string dir = Directory.GetDirectories(fixture.Runtime.WorkingDirectory).Single(d => File.Exists(Path.Combine(d, "result.bin")));
        try
        {
            // Rewrite the build id inside the arguments payload, as a payload of another build would have.
            string args = Path.Combine(dir, "args.bin");
            byte[] bytes = File.ReadAllBytes(args);
            byte[] build = FindBuildId(bytes);
            int at = IndexOf(bytes, build);
            bytes[at] ^= 0xFF;
            File.WriteAllBytes(args, bytes);
            File.Delete(Path.Combine(dir, "result.bin"));

            var (code, stderr) = await WorkerByHand.RunAsync(fixture.Runtime, dir);
            Assert.Equal(2, code);
            Assert.Contains("another build", stderr);
            Assert.False(File.Exists(Path.Combine(dir, "result.bin")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task PayloadNamingAnUnknownAppIsRefused()
    {
        var future = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = fixture.Runtime, KeepFiles = true });
        await future;
        string dir = Directory.GetDirectories(fixture.Runtime.WorkingDirectory).Single(d => File.Exists(Path.Combine(d, "result.bin")));
        try
        {
            string args = Path.Combine(dir, "args.bin");
            byte[] bytes = File.ReadAllBytes(args);
            byte[] name = System.Text.Encoding.UTF8.GetBytes("Library.Add(");
            int at = IndexOf(bytes, name);
            bytes[at + 8] = (byte)'X'; // Library.Xdd(...): not a registered app
            File.WriteAllBytes(args, bytes);
            var (code, stderr) = await WorkerByHand.RunAsync(fixture.Runtime, dir);
            Assert.Equal(2, code);
            Assert.Contains("no app", stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A value the compiler cannot see (a constant bad value is already compile error FLUX003 and friends).</summary>
    private static T AtRunTime<T>(T value) => value;

    /// <summary>The stub must throw synchronously, before anything is submitted.</summary>
    private static ArgumentException Rejects(Func<FluxFuture> call) => Assert.Throws<ArgumentException>(() => { call(); });

    private static byte[] FindBuildId(byte[] _) => typeof(Library).Module.ModuleVersionId.ToByteArray();

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("pattern not found in payload");
    }

    internal static async Task WaitForState(FluxFuture future, FluxJobState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (future.State != state)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job never reached {state}; it is {future.State}");
            if (future.IsCompleted) await future; // surfaces an unexpected failure
            await Task.Delay(10);
        }
    }
}

internal static class LibC
{
    [DllImport("libc")]
    public static extern int kill(int pid, int signal);

    [DllImport("libc", SetLastError = true)]
    public static extern int waitpid(int pid, out int status, int options);
}
