using System.Globalization;
using FluxApps;
using FluxApps.TestApps;
using FluxApps.Tests.Shared;
using Xunit.Abstractions;

namespace FluxApps.EndToEnd.Tests;

// Alone: each test starts its runtime under FLUXAPPS_LOCAL_CGROUP / FLUXAPPS_LOCAL_SPAWN, which no other runtime may see.
[CollectionDefinition(nameof(ContainmentTests), DisableParallelization = true)]
public sealed class ContainmentCollection;

/// <summary>
/// The local backend contains each job as Flux's job shell does: a cancel, a time limit or the job's end kills every
/// process the job started, also those that left its process tree (a double fork) or its session (setsid). Each test
/// runs under each containment: a cgroup v2 per job (with ranks started by posix_spawn, and by
/// System.Diagnostics.Process), and process groups alone (FLUXAPPS_LOCAL_CGROUP=off).
/// </summary>
[Collection(nameof(ContainmentTests))]
public sealed class ContainmentTests(ITestOutputHelper output)
{
    /// <summary>posix_spawn and a cgroup per job where the machine allows one (the default).</summary>
    public const string Cgroup = "cgroup";
    /// <summary>posix_spawn, cgroups off: sessions and process groups only.</summary>
    public const string ProcessGroup = "process-group";
    /// <summary>System.Diagnostics.Process (the fallback path) with a cgroup per job.</summary>
    public const string ProcessWithCgroup = "process+cgroup";

    private static readonly TimeSpan s_gone = TimeSpan.FromSeconds(30);

    private async Task<FluxAppsRuntime> Start(string mode)
    {
        string? cgroup = Environment.GetEnvironmentVariable("FLUXAPPS_LOCAL_CGROUP");
        string? spawn = Environment.GetEnvironmentVariable("FLUXAPPS_LOCAL_SPAWN");
        Environment.SetEnvironmentVariable("FLUXAPPS_LOCAL_CGROUP", mode == ProcessGroup ? "off" : null);
        Environment.SetEnvironmentVariable("FLUXAPPS_LOCAL_SPAWN", mode == ProcessWithCgroup ? "process" : null);
        try
        {
            var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = TestPaths.WorkRoot });
            output.WriteLine($"{mode}: {rt.BackendDescription}");
            return rt;
        }
        finally
        {
            Environment.SetEnvironmentVariable("FLUXAPPS_LOCAL_CGROUP", cgroup);
            Environment.SetEnvironmentVariable("FLUXAPPS_LOCAL_SPAWN", spawn);
        }
    }

    private static bool HasCgroups(FluxAppsRuntime rt) => rt.BackendDescription.Contains("jobs contained by cgroup v2 (", StringComparison.Ordinal);

    /// <summary>
    /// Starts the runtime for <paramref name="mode"/>; skips where the runtime says it uses a containment that cannot catch
    /// what the test leaves behind (a machine without a writable cgroup2).
    /// </summary>
    private async Task<FluxAppsRuntime> StartContaining(string mode, bool needsCgroup = false)
    {
        var rt = await Start(mode);
        bool withoutCgroups = rt.BackendDescription.Contains("jobs contained by ", StringComparison.Ordinal) && !HasCgroups(rt);
        if ((needsCgroup || mode == ProcessWithCgroup) && withoutCgroups)
        {
            string description = rt.BackendDescription;
            await rt.DisposeAsync();
            Skip.If(true, needsCgroup
                ? $"no cgroup v2 in use ({description}): a process that calls setsid leaves the job's process group, and only a cgroup still holds it"
                : $"no cgroup v2 in use ({description}): ranks started by System.Diagnostics.Process have no process group of their own, so only a cgroup contains them");
        }
        return rt;
    }

    [Theory]
    [InlineData(Cgroup)]
    [InlineData(ProcessGroup)]
    [InlineData(ProcessWithCgroup)]
    public async Task TheDescriptionNamesTheContainmentInUse(string mode)
    {
        string directory;
        await using (var rt = await Start(mode))
        {
            string description = rt.BackendDescription;
            Assert.Matches(@"^local: \d+ cores?, \d+ GPUs?, jobs contained by .+, ranks started with (posix_spawn|System\.Diagnostics\.Process)$", description);
            if (mode == ProcessGroup)
            {
                Assert.Contains("jobs contained by session and process group (cgroups off: FLUXAPPS_LOCAL_CGROUP=off)", description);
                return;
            }
            if (!HasCgroups(rt))
            {
                // A machine without a writable cgroup2: the fallback says so, and why.
                Assert.Contains(mode == Cgroup ? "jobs contained by session and process group (" : "jobs contained by process tree only (", description);
                return;
            }
            int open = description.IndexOf("cgroup v2 (", StringComparison.Ordinal) + "cgroup v2 (".Length;
            directory = description[open..description.IndexOf(')', open)];
            Assert.StartsWith("fluxapps-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-", Path.GetFileName(directory));
            Assert.True(File.Exists(Path.Combine(directory, "cgroup.procs")), $"{directory} is not a cgroup");
            Assert.Equal(3, await Library.AddAsync(1, 2, new FluxCallOptions { Runtime = rt }));
            // Each job's cgroup goes when the job is over.
            await Eventually.True(() => Directory.GetDirectories(directory).Length == 0, s_gone,
                () => "job cgroups left: " + string.Join(", ", Directory.GetDirectories(directory)));
        }
        Assert.False(Directory.Exists(directory), $"the runtime's cgroup {directory} outlived it");
    }

    [SkippableTheory]
    [InlineData(Cgroup)]
    [InlineData(ProcessGroup)]
    [InlineData(ProcessWithCgroup)]
    public async Task CancellingKillsADoubleForkedGrandchild(string mode)
    {
        await using var rt = await StartContaining(mode);
        string pidFile = NewPidFile();
        var future = ContainmentApps.DetachGrandchildThenSleepAsync(pidFile, false, 600_000, new FluxCallOptions { Runtime = rt });
        var grandchild = await WatchedProcess.Of(future, pidFile);
        output.WriteLine($"grandchild {grandchild.Pid}, parent {grandchild.Parent}");
        await AssertCancellingKills(future, future.Cancel, grandchild, "the call was cancelled");
    }

    [SkippableTheory]
    [InlineData(Cgroup)]
    [InlineData(ProcessWithCgroup)]
    public async Task CancellingKillsAGrandchildInASessionOfItsOwn(string mode)
    {
        await using var rt = await StartContaining(mode, needsCgroup: true);
        string pidFile = NewPidFile();
        var future = ContainmentApps.DetachGrandchildThenSleepAsync(pidFile, true, 600_000, new FluxCallOptions { Runtime = rt });
        var grandchild = await WatchedProcess.Of(future, pidFile);
        await AssertCancellingKills(future, () =>
        {
            // It really left: it leads a session of its own, out of reach of any process-group kill.
            Assert.Equal(grandchild.Pid, grandchild.Session);
            future.Cancel();
        }, grandchild, "the call was cancelled");
    }

    [SkippableTheory]
    [InlineData(Cgroup)]
    [InlineData(ProcessGroup)]
    [InlineData(ProcessWithCgroup)]
    public async Task TheTimeLimitKillsADoubleForkedGrandchild(string mode)
    {
        await using var rt = await StartContaining(mode);
        string pidFile = NewPidFile();
        var future = ContainmentApps.DetachGrandchildPastLimitAsync(pidFile, 600_000, new FluxCallOptions { Runtime = rt });
        var grandchild = await WatchedProcess.Of(future, pidFile);
        try
        {
            var ex = await Assert.ThrowsAsync<FluxJobException>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(FluxJobFailureKind.TimeLimit, ex.Kind);
            await grandchild.AssertGone("the call passed its time limit");
        }
        finally
        {
            grandchild.KillIfAlive();
        }
    }

    [SkippableTheory]
    [InlineData(Cgroup)]
    [InlineData(ProcessGroup)]
    [InlineData(ProcessWithCgroup)]
    public async Task CancellingAnAppOnItsTokenKillsItsGrandchild(string mode)
    {
        await using var rt = await StartContaining(mode);
        string pidFile = NewPidFile();
        using var cts = new CancellationTokenSource();
        var future = ContainmentApps.DetachGrandchildThenWaitAsync(pidFile, new FluxCallOptions { Runtime = rt }, cts.Token);
        var grandchild = await WatchedProcess.Of(future, pidFile);
        await AssertCancellingKills(future, cts.Cancel, grandchild, "the call was cancelled (SIGTERM, then SIGKILL after the grace)");
    }

    /// <summary>Runs <paramref name="cancel"/>; the call must end cancelled and <paramref name="grandchild"/> be gone (killed after the test either way).</summary>
    private static async Task AssertCancellingKills(FluxFuture future, Action cancel, WatchedProcess grandchild, string when)
    {
        try
        {
            cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            await grandchild.AssertGone(when);
        }
        finally
        {
            grandchild.KillIfAlive();
        }
    }

    [SkippableTheory]
    [InlineData(Cgroup)]
    [InlineData(ProcessGroup)]
    [InlineData(ProcessWithCgroup)]
    public async Task NothingACommandStartsOutlivesItsJob(string mode)
    {
        await using var rt = await StartContaining(mode);
        string pidFile = NewPidFile();
        var future = ContainmentApps.BackgroundChildAndExitAsync(pidFile, new FluxCallOptions { Runtime = rt });
        FluxCommandResult result = await future.AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, result.ExitCode);
        // The pid file was written before the shell exited, so it names a process the job started.
        var child = WatchedProcess.Read(pidFile);
        try
        {
            await child.AssertGone("its job is over");
        }
        finally
        {
            child.KillIfAlive();
        }
    }

    [Fact]
    public Task AnInterruptOfTheCallerReachesItsRanks() =>
        // Ranks lead sessions of their own, so a terminal's Ctrl+C no longer reaches them directly: the caller passes it on.
        AssertRanksEndWithTheirCaller(client => Assert.Equal(0, LibC.kill(client.Id, 2)), "its caller was interrupted"); // SIGINT

    [Fact]
    public Task AClientKilledWithSigkillTakesItsJobsRanksWithIt() =>
        // A SIGKILLed client cannot end its jobs: each worker rank watches it and ends itself (and what it started).
        AssertRanksEndWithTheirCaller(client => client.Kill(), "its client was killed with SIGKILL"); // SIGKILL

    /// <summary>Starts a child client with one long call, ends the client with <paramref name="end"/>, and checks that its ranks go too.</summary>
    private static async Task AssertRanksEndWithTheirCaller(Action<System.Diagnostics.Process> end, string when)
    {
        using var client = ChildClient.Start("sleep", TestPaths.WorkRoot);
        await ChildClient.WaitForLine(client, "running", TimeSpan.FromMinutes(2));
        var ranks = ChildrenOf(client.Id).Select(pid => WatchedProcess.Of(pid)).OfType<WatchedProcess>().ToList();
        try
        {
            Assert.NotEmpty(ranks);
            end(client);
            await client.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            foreach (var rank in ranks) await rank.AssertGone(when);
        }
        finally
        {
            if (!client.HasExited) client.Kill();
            foreach (var rank in ranks) rank.KillIfAlive();
        }
    }

    /// <summary>The processes whose parent is <paramref name="parent"/>, from /proc.</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (WatchedProcess.Of(pid) is { } process && process.Parent == parent) children.Add(pid);
        }
        return children;
    }

    private static string NewPidFile() => Path.Combine(TestPaths.WorkRoot, "grandchild-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>A process the test watches (a grandchild, a rank): its pid with its start time, so a reused pid never reads as the same process.</summary>
    private sealed record WatchedProcess(int Pid, long StartTime, int Parent, int Session)
    {
        public static async Task<WatchedProcess> Of(FluxFuture future, string pidFile)
        {
            await Eventually.True(async () =>
            {
                if (future.IsCompleted) await future; // an unexpected failure surfaces here
                return File.Exists(pidFile);
            }, TimeSpan.FromSeconds(60), () => $"no pid in {pidFile}; the job is {future.State}");
            return Read(pidFile);
        }

        public static WatchedProcess Read(string pidFile)
        {
            int pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            return Of(pid) ?? throw new InvalidOperationException($"process {pid} from {pidFile} is already gone");
        }

        /// <summary>The process <paramref name="pid"/> as it is now, or null when there is none.</summary>
        public static WatchedProcess? Of(int pid) => Stat(pid) is { } stat ? new WatchedProcess(pid, stat.StartTime, stat.Parent, stat.Session) : null;

        /// <summary>Still this process and not a zombie (a killed orphan is reaped by init, or lingers as a zombie of it).</summary>
        public bool IsAlive => Stat(Pid) is { } s && s.State != 'Z' && s.StartTime == StartTime;

        public Task AssertGone(string when) =>
            Eventually.True(() => !IsAlive, s_gone, () => $"process {Pid} (parent {Parent}, session {Session}) still runs after {when}");

        /// <summary>Test hygiene: a process that survived a failed test must not run on for 10 minutes.</summary>
        public void KillIfAlive()
        {
            if (IsAlive) LibC.kill(Pid, 9);
        }

        /// <summary>/proc/PID/stat: state (3), parent (4), session (6), start time (22); fields after the parenthesised name.</summary>
        private static (char State, int Parent, int Session, long StartTime)? Stat(int pid)
        {
            string text;
            try
            {
                text = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return null;
            }
            string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture),
                long.Parse(fields[19], CultureInfo.InvariantCulture));
        }
    }
}
