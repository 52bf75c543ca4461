using System.Collections;
using FluxApps.Backends;

namespace FluxApps.Tests;

/// <summary>
/// The local backend's cgroup tree on this machine: under this process's own cgroup, a job's cgroup killed with
/// cgroup.kill and, as kernels before 5.14 must, process by process; both gone after the job and the runtime.
/// </summary>
public sealed class CgroupTests
{
    private static CgroupTree NewTree()
    {
        Skip.If(!OperatingSystem.IsLinux(), "cgroups are Linux's");
        Skip.If(string.Equals(Environment.GetEnvironmentVariable(CgroupTree.Variable), "off", StringComparison.OrdinalIgnoreCase), $"{CgroupTree.Variable}=off");
        var tree = CgroupTree.TryCreate(out string whyNot);
        Skip.If(tree is null, whyNot);
        return tree!;
    }

    [Theory]
    [InlineData("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw", "/", "/sys/fs/cgroup/unified")]
    [InlineData("29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot", "/", "/sys/fs/cgroup")]
    [InlineData(@"30 23 0:26 /job\0401 /mnt/my\040cgroups rw - cgroup2 none rw", "/job 1", "/mnt/my cgroups")]
    [InlineData("35 24 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup rw,memory", null, null)]
    [InlineData("22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw", null, null)]
    [InlineData("garbage", null, null)]
    public void OnlyCgroup2MountsAreFoundInMountinfoWithTheirEscapesUndone(string line, string? root, string? mountPoint)
    {
        var found = CgroupTree.ParseCgroup2Mount(line);
        Assert.Equal(root, found?.Root);
        Assert.Equal(mountPoint, found?.MountPoint);
    }

    [SkippableFact]
    public async Task TheTreeSitsUnderThisProcesssCgroupAndGoesAtDispose()
    {
        var tree = NewTree();
        string own = File.ReadLines("/proc/self/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
        Assert.EndsWith((own == "/" ? "" : own) + "/" + Path.GetFileName(tree.Directory), tree.Directory);
        Assert.Equal(CgroupTree.OwnCgroupDirectory(out _), Path.GetDirectoryName(tree.Directory));
        Assert.StartsWith($"fluxapps-{Environment.ProcessId}-", Path.GetFileName(tree.Directory));
        var job = tree.CreateJob("job-a")!;
        Assert.True(Directory.Exists(job.Path));
        await tree.DisposeAsync();
        Assert.False(Directory.Exists(tree.Directory));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KillingAJobKillsWhatLeftItsSessionAndItsCgroupGoes(bool cgroupKill)
    {
        var tree = NewTree();
        var spawner = NativeSpawner.Create();
        Skip.If(spawner is null, "this system lacks pidfd_open or posix_spawn_file_actions_addchdir_np");
        Skip.If(cgroupKill && !tree.HasKill, "this kernel has no cgroup.kill (Linux 5.14)");
        tree.HasKill = cgroupKill;
        string dir = Directory.CreateTempSubdirectory("fluxapps-cgroup-").FullName;
        try
        {
            var job = tree.CreateJob("job-b")!;
            var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            string go = Path.Combine(dir, "go"), pidFile = Path.Combine(dir, "escaped");
            // It waits to be moved before it starts anything: the test is of the kill, not of the window after spawn.
            var child = spawner!.Spawn(["/bin/sh", "-c", $"while [ ! -e {go} ]; do sleep 0.01; done; (setsid sleep 60 & echo $! > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}); sleep 60"],
                dir, Path.Combine(dir, "out"), Path.Combine(dir, "err"),
                new Hashtable { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin" }, [],
                static (status, state) => ((TaskCompletionSource<ExitStatus>)state!).TrySetResult(status), exited);
            bool added = false;
            spawner.WhileUnreaped(child, pid => added = job.TryAdd(pid));
            Assert.True(added, $"pid {child.Pid} could not join {job.Path}");
            File.WriteAllText(go, "");
            int escaped = await ReadPid(pidFile);
            Assert.Contains(escaped, CgroupTree.ReadPids(job.Path));

            job.Kill();
            Assert.Equal(ExitStatus.Killed(9), await exited.Task.WaitAsync(TimeSpan.FromSeconds(60)));
            for (int i = 0; i < 600 && IsAlive(escaped); i++) await Task.Delay(100);
            Assert.False(IsAlive(escaped), $"{escaped}, in a session of its own, survived the kill of its cgroup");
            job.End();
            for (int i = 0; i < 600 && Directory.Exists(job.Path); i++) await Task.Delay(100);
            Assert.False(Directory.Exists(job.Path), $"{job.Path} outlived its job");
        }
        finally
        {
            await tree.DisposeAsync();
            Directory.Delete(dir, true);
        }
        Assert.False(Directory.Exists(tree.Directory));
    }

    private static Task<int> ReadPid(string path) => NativeSpawnerTests.ReadPid(path);

    private static bool IsAlive(int pid) => NativeSpawnerTests.IsAlive(pid);
}
