using System.Diagnostics;
using FluxApps;
using FluxApps.Backends.Flux;
using FluxApps.TestApps;

namespace FluxApps.Flux.Tests;

/// <summary>Private instances start and stop with their runtime; a dying broker fails what is pending, fast.</summary>
public sealed class LifecycleTests
{
    private static Task<FluxAppsRuntime> StartPrivate(Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null) =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, WorkingDirectory = TestPaths.WorkRoot, LoggerFactory = loggerFactory });

    private static FluxJobBackend BackendOf(FluxAppsRuntime rt) => (FluxJobBackend)rt.JobBackend;

    /// <summary>
    /// Kills the broker with SIGKILL, then (once the test has looked) cleans what a killed broker
    /// cannot: its rundir and statedir, and the tasks it orphaned (they would sleep on).
    /// </summary>
    private sealed class BrokerKiller : IAsyncDisposable
    {
        private readonly FluxAppsRuntime _rt;
        private readonly string[] _dirs;

        private BrokerKiller(FluxAppsRuntime rt, string[] dirs)
        {
            _rt = rt;
            _dirs = dirs;
        }

        public static async Task<BrokerKiller> KillAsync(FluxAppsRuntime rt)
        {
            var backend = BackendOf(rt);
            string uri = backend.Connection.Uri;
            var dirs = new[] { (await FluxCli.RunAsync(uri, "getattr", "rundir")).Trim(), (await FluxCli.RunAsync(uri, "getattr", "statedir")).Trim() };
            Process.GetProcessById(backend.Connection.BrokerPid!.Value).Kill(); // SIGKILL
            return new BrokerKiller(rt, dirs);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (int pid in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!)))
            {
                string cmdline;
                try { cmdline = File.ReadAllText($"/proc/{pid}/cmdline"); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                if (!cmdline.Contains(_rt.WorkingDirectory)) continue;
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
            }
            await Task.Delay(100);
            foreach (string dir in _dirs)
            {
                try { if (dir.Length > 0 && Directory.Exists(dir)) Directory.Delete(dir, true); }
                catch (IOException) { }
            }
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try { return !Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    [SkippableFact]
    public async Task DisposingTheRuntimeShutsThePrivateInstanceDown()
    {
        FluxAvailability.SkipIfAbsent();
        var logs = new FluxApps.Tests.Shared.CapturingLoggerFactory();
        var rt = await StartPrivate(logs);
        var backend = BackendOf(rt);
        var instance = backend.Instance!;
        // The log tells where the instance is, for the flux CLI.
        Assert.Equal(rt.FluxUri, Assert.Single(logs.Entries, e => e.Id.Name == "FluxInstanceStarted").Field("FluxUri"));
        Assert.Equal(FluxBackend.Flux, Assert.Single(logs.Entries, e => e.Id.Name == "RuntimeStarted").Field("Backend"));
        string socket = new Uri(backend.Connection.Uri).AbsolutePath;
        int brokerPid = backend.Connection.BrokerPid!.Value;
        Assert.True(File.Exists(socket) || Directory.Exists(Path.GetDirectoryName(socket)));
        Assert.True(ProcessAlive(brokerPid));
        var running = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
        await Wait.ForEvent(running, "start");

        await rt.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await running);
        Assert.True(instance.Exited.IsCompleted, "flux start should have exited");
        Assert.Equal(0, await instance.Exited);
        Assert.False(ProcessAlive(brokerPid), "the broker outlived the runtime");
        Assert.False(Directory.Exists(Path.GetDirectoryName(socket)), "the broker's rundir is left behind");
        Assert.False(Directory.Exists(rt.WorkingDirectory));
    }

    [SkippableFact]
    public async Task KillingTheBrokerFailsPendingCallsQuicklyAndLaterCallsAtOnce()
    {
        FluxAvailability.SkipIfAbsent();
        var rt = await StartPrivate();
        try
        {
            var backend = BackendOf(rt);
            var running = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
            var queued = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt, Cpus = Environment.ProcessorCount });
            await Wait.ForEvent(running, "start");
            await queued.Submitted;

            await using var killed = await BrokerKiller.KillAsync(rt); // mid-run
            var clock = Stopwatch.StartNew();

            foreach (var pending in new FluxFuture[] { running, queued })
            {
                var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.Equal(FluxJobFailureKind.BackendFailure, ex.Kind);
                Assert.Contains("connection", ex.Message);
                Assert.Equal(pending.JobId, ex.JobId);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"failing the pending calls took {clock.Elapsed}");

            clock.Restart();
            var later = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt });
            var laterEx = await Assert.ThrowsAsync<FluxJobException>(async () => await later.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(FluxJobFailureKind.BackendFailure, laterEx.Kind);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"a call after the failure took {clock.Elapsed}");
            Assert.Equal(0, rt.PendingCount);
        }
        finally
        {
            var clock = Stopwatch.StartNew();
            await rt.DisposeAsync();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"disposing after the broker died took {clock.Elapsed}");
        }
    }

    [SkippableFact]
    public async Task AStoppedBrokerFailsPendingCallsWithinFifteenSeconds()
    {
        // SIGSTOP keeps the socket open: nothing but a liveness check can tell the broker no longer answers.
        FluxAvailability.SkipIfAbsent();
        var rt = await StartPrivate();
        var backend = BackendOf(rt);
        int broker = backend.Connection.BrokerPid!.Value;
        try
        {
            var running = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt });
            var queued = Library.SleepAsync(60_000, new FluxCallOptions { Runtime = rt, Cpus = Environment.ProcessorCount });
            await Wait.ForEvent(running, "start");
            await queued.Submitted;
            Assert.Equal(0, Kill(broker, 19)); // SIGSTOP
            var clock = Stopwatch.StartNew();
            foreach (var pending in new FluxFuture[] { running, queued })
            {
                var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
                Assert.Equal(FluxJobFailureKind.BackendFailure, ex.Kind);
                Assert.Contains("did not answer a ping", ex.Message);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"failing the pending calls of a stopped broker took {clock.Elapsed}");
            var later = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt });
            Assert.Equal(FluxJobFailureKind.BackendFailure,
                (await Assert.ThrowsAsync<FluxJobException>(async () => await later.AsTask().WaitAsync(TimeSpan.FromSeconds(10)))).Kind);
        }
        finally
        {
            Kill(broker, 18); // SIGCONT: the instance can be shut down
            await rt.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(90));
        }
    }

    [SkippableFact]
    public async Task ASubmitRefusedBecauseIngestIsGoneIsABackendFailureThatRetriesTryAgain()
    {
        // What a broker on its way down answers (its job-ingest module unloaded): ENOSYS, a backend failure, not a refusal of the job.
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartPrivate();
        Assert.Equal(3, await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }));
        await FluxCli.RunAsync(rt.FluxUri!, "module", "remove", "job-ingest");
        var call = Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt, Retries = 1 });
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await call.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(FluxJobFailureKind.BackendFailure, ex.Kind);
        Assert.Equal(2, call.Attempts); // retried, as a failure of the backend is
        Assert.Single(ex.EarlierFailures);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [SkippableFact]
    public async Task KillingTheBrokerOfAnIdleRuntimeFailsTheNextCallFast()
    {
        FluxAvailability.SkipIfAbsent();
        await using var rt = await StartPrivate();
        var backend = BackendOf(rt);
        Assert.Equal(3, await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }));
        await using var killed = await BrokerKiller.KillAsync(rt);
        await backend.Instance!.Exited.WaitAsync(TimeSpan.FromSeconds(30));
        var ex = await Assert.ThrowsAsync<FluxJobException>(async () =>
            await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(FluxJobFailureKind.BackendFailure, ex.Kind);
    }

    [SkippableFact]
    public async Task TheImplicitDefaultRuntimeUsesAPrivateFluxInstance()
    {
        FluxAvailability.SkipIfAbsent();
        using var env = new EnvironmentScope("FLUXAPPS_BACKEND", null, "FLUX_URI", null, "FLUXAPPS_WORKDIR", TestPaths.WorkRoot);
        // No runtime is running in this test class, so the stub starts Default: Auto picks Flux (flux is on PATH).
        Assert.Equal(9, await Library.AddAsync(4, 5));
        var rt = FluxAppsRuntime.Default;
        Assert.Equal(FluxBackend.Flux, rt.Backend);
        var instance = BackendOf(rt).Instance!;
        await rt.DisposeAsync();
        Assert.True(instance.Exited.IsCompleted);
    }
}
