using System.Collections;
using System.Runtime.InteropServices;
using FluxApps.Backends;

namespace FluxApps.Tests;

public sealed class NativeSpawnerTests
{
    [Theory]
    [InlineData(0x0000, 0, null)]     // exit(0)
    [InlineData(0x0300, 3, null)]     // exit(3)
    [InlineData(0x8200, 130, null)]   // exit(130): an exit, not SIGINT
    [InlineData(0xff00, 255, null)]   // exit(255)
    [InlineData(0x0009, 0, 9)]        // killed by SIGKILL
    [InlineData(0x008b, 0, 11)]       // SIGSEGV with a core dump (0x80 is the core flag)
    [InlineData(0x000f, 0, 15)]       // SIGTERM
    public void WaitStatusesDecodeExactly(int status, int code, int? signal)
    {
        var decoded = ExitStatus.FromWaitStatus(status);
        Assert.Equal((code, signal, false), (decoded.Code, decoded.Signal, decoded.CodeMayBeSignal));
        Assert.True(decoded.IsKnown);
    }

    [Fact]
    public void AStatusTakenByOthersIsUnknownNeverSuccess()
    {
        var status = NativeSpawner.StatusOfWait(reaped: -1, errno: 10, status: 0); // ECHILD
        Assert.False(status.IsKnown);
        Assert.False(status.IsSuccess);
        Assert.Contains("ECHILD", status.UnknownReason);
    }

    private static NativeSpawner NewSpawner()
    {
        Skip.If(!OperatingSystem.IsLinux(), "posix_spawn and pidfds are Linux's");
        var spawner = NativeSpawner.Create();
        Skip.If(spawner is null, "this system lacks pidfd_open or posix_spawn_file_actions_addchdir_np");
        return spawner!;
    }

    private static object GateOf(NativeSpawner spawner) => spawner.Gate;

    private static NativeSpawner.Child Spawn(NativeSpawner spawner, string script, TaskCompletionSource<ExitStatus> exited, string dir) =>
        spawner.Spawn(["/bin/sh", "-c", script], dir, Path.Combine(dir, "out"), Path.Combine(dir, "err"),
            new Hashtable { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin" }, [],
            static (status, state) => ((TaskCompletionSource<ExitStatus>)state!).TrySetResult(status), exited);

    [SkippableFact]
    public async Task AChildReapedBySomethingElseReportsAnUnknownStatus()
    {
        var spawner = NewSpawner();
        string dir = Directory.CreateTempSubdirectory("fluxapps-spawner-").FullName;
        try
        {
            var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            object gate = GateOf(spawner);
            NativeSpawner.Child child;
            lock (gate)
            {
                // Spawn takes the gate too (re-entrant here); the reaper cannot reap before this block ends.
                child = Spawn(spawner, "exit 0", exited, dir);
                Assert.Equal(child.Pid, waitpid(child.Pid, out _, 0)); // someone else takes its status
            }
            var status = await exited.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.False(status.IsSuccess);
            Assert.False(status.IsKnown);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SkippableFact]
    public async Task KillTreeKillsDescendantsAndHoldsNoLockWhileWalkingProc()
    {
        var spawner = NewSpawner();
        string dir = Directory.CreateTempSubdirectory("fluxapps-spawner-").FullName;
        try
        {
            var walking = new ManualResetEventSlim();
            var mayFinish = new ManualResetEventSlim();
            spawner.TreeWalker = pid =>
            {
                walking.Set();
                mayFinish.Wait(TimeSpan.FromSeconds(60));
                return NativeSpawner.Descendants(pid);
            };
            var parentExited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            string grandchildPidFile = Path.Combine(dir, "grandchild");
            var parent = Spawn(spawner, $"sleep 60 & echo $! > {grandchildPidFile}; wait", parentExited, dir);
            int grandchild = await ReadPid(grandchildPidFile);

            var kill = Task.Run(() => spawner.KillTree(parent));
            Assert.True(walking.Wait(TimeSpan.FromSeconds(60)), "KillTree never walked the tree");
            // Mid-walk, another child starts and is reaped: neither waits for the kill.
            var otherExited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            var spawnAndReap = Task.Run(async () =>
            {
                Spawn(spawner, "exit 7", otherExited, dir);
                return await otherExited.Task;
            });
            var finished = await Task.WhenAny(spawnAndReap, Task.Delay(TimeSpan.FromSeconds(60)));
            mayFinish.Set();
            Assert.Same(spawnAndReap, finished);
            Assert.Equal(ExitStatus.Exited(7), await spawnAndReap);

            await kill.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(ExitStatus.Killed(9), await parentExited.Task.WaitAsync(TimeSpan.FromSeconds(60)));
            for (int i = 0; i < 600 && IsAlive(grandchild); i++) await Task.Delay(100);
            Assert.False(IsAlive(grandchild), $"the grandchild {grandchild} survived KillTree");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SkippableFact]
    public async Task EachChildLeadsASessionAndProcessGroupOfItsOwn()
    {
        var spawner = NewSpawner();
        string dir = Directory.CreateTempSubdirectory("fluxapps-spawner-").FullName;
        try
        {
            var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            var child = Spawn(spawner, "exec sleep 60", exited, dir);
            var (group, session) = GroupAndSession(child.Pid);
            Assert.Equal(child.Pid, group);
            Assert.Equal(child.Pid, session);
            spawner.KillTree(child);
            Assert.Equal(ExitStatus.Killed(9), await exited.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SkippableFact]
    public async Task WhatIsLeftInAChildsGroupDiesAsTheChildIsReaped()
    {
        var spawner = NewSpawner();
        string dir = Directory.CreateTempSubdirectory("fluxapps-spawner-").FullName;
        try
        {
            var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            string pidFile = Path.Combine(dir, "background");
            Spawn(spawner, $"sleep 60 & echo $! > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; exit 0", exited, dir);
            // The child's own status is its own: an exit, not the kill its group got.
            Assert.Equal(ExitStatus.Exited(0), await exited.Task.WaitAsync(TimeSpan.FromSeconds(60)));
            int background = await ReadPid(pidFile);
            for (int i = 0; i < 600 && IsAlive(background); i++) await Task.Delay(100);
            Assert.False(IsAlive(background), $"the background sleep {background} outlived its parent");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Fields 5 and 6 of /proc/PID/stat.</summary>
    private static (int Group, int Session) GroupAndSession(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[2]), int.Parse(fields[3]));
    }

    /// <summary>The pid a child wrote to <paramref name="path"/> (written whole: moved into place), once it is there.</summary>
    internal static async Task<int> ReadPid(string path)
    {
        for (int i = 0; i < 600; i++)
        {
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out int pid)) return pid;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no pid in {path}");
    }

    /// <summary>Alive and not a zombie (a killed orphan is reaped by init, or lingers as a zombie of it).</summary>
    internal static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int waitpid(int pid, out int status, int options);
}
