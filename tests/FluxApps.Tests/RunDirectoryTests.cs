using System.Runtime.Versioning;
using FluxApps.Runtime;

namespace FluxApps.Tests;

/// <summary>
/// Run directories are new and private: a name already taken (a directory or link someone planted) is refused, and so is
/// a root in which other users could move or replace them.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class RunDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fluxapps-rundir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ARunDirectoryWhoseNameIsTakenIsRefusedNotReused()
    {
        string planted = Path.Combine(_dir, "planted");
        Directory.CreateDirectory(planted, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var ex = Assert.Throws<IOException>(() => RunDirectories.CreateNewPrivateDirectory(planted));
        Assert.Contains(planted, ex.Message);
        Assert.Contains("already exists", ex.Message);

        string target = Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName;
        string link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, target);
        Assert.Throws<IOException>(() => RunDirectories.CreateNewPrivateDirectory(link));

        string fresh = Path.Combine(_dir, "fresh");
        RunDirectories.CreateNewPrivateDirectory(fresh);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(fresh));
    }

    [Fact]
    public void ARootEveryUserMayWriteWithoutTheStickyBitIsRefusedThroughTheRuntime()
    {
        string root = Path.Combine(_dir, "open");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0x1FF); // 0777, no sticky bit
        var ex = Assert.ThrowsAny<Exception>(() => FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = root }).GetAwaiter().GetResult());
        Assert.Contains(root, ex.Message);
        Assert.Contains("777", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root)); // no run directory was made there

        File.SetUnixFileMode(root, (UnixFileMode)0x3FF); // 1777, as /tmp: others cannot move what is not theirs
        RunDirectories.CheckRoot(root, ownRoot: false);
    }

    [Fact]
    public void TheDefaultRootMustBeTheUsersOwnAndWritableByNoOneElse()
    {
        string root = Path.Combine(_dir, "runs");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0x1F8); // 0770
        var ex = Assert.Throws<IOException>(() => RunDirectories.CheckRoot(root, ownRoot: true));
        Assert.Contains("writable by its group", ex.Message);
        RunDirectories.CheckRoot(root, ownRoot: false); // a shared project directory the user chose is fine

        File.SetUnixFileMode(root, (UnixFileMode)0x1C0); // 0700
        RunDirectories.CheckRoot(root, ownRoot: true);
        if (PosixFiles.EffectiveUserId == 0)
        {
            // Only root can give a directory away; elsewhere the owner check is the same code as above.
            File.SetUnixFileMode(root, (UnixFileMode)0x1ED); // 0755
            Assert.Equal(0, Chown(root, 65534, 65534));
            var owned = Assert.Throws<IOException>(() => RunDirectories.CheckRoot(root, ownRoot: true));
            Assert.Contains("belongs to user id 65534", owned.Message);
        }
    }

    [Fact]
    public void RunDirectoriesOfDeadProcessesOfThisMachineAreRemovedAtTheNextStartAndNothingElse()
    {
        const int NeverAPid = 99_999_999; // above any pid_max
        string host = RunDirectories.HostLabel;
        string Make(string name, bool keep = false)
        {
            string dir = Path.Combine(_dir, name);
            Directory.CreateDirectory(Path.Combine(dir, "c1"));
            File.WriteAllText(Path.Combine(dir, "c1", "args.bin"), "x");
            if (keep) File.WriteAllText(Path.Combine(dir, RunDirectories.KeepMarker), "");
            return dir;
        }
        string abandoned = Make($"20261208-010203-{host}-{NeverAPid}-0123456789abcdef");
        string live = Make($"20261208-010203-{host}-{Environment.ProcessId}-0123456789abcdef");
        string otherMachine = Make($"20261208-010203-{host}x-{NeverAPid}-0123456789abcdef");
        string kept = Make($"20261208-010203-{host}-{NeverAPid}-fedcba9876543210", keep: true);
        string unrelated = Make($"notes-{host}-{NeverAPid}-x");

        RunDirectories.RemoveAbandonedRuns(_dir, "");

        Assert.False(Directory.Exists(abandoned));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(otherMachine));
        Assert.True(Directory.Exists(kept));
        Assert.True(Directory.Exists(unrelated));
    }

    [Fact]
    public async Task ARuntimeStartedInARootRemovesWhatAKilledRuntimeLeftThere()
    {
        string root = Path.Combine(_dir, "root");
        Directory.CreateDirectory(root);
        string left = Path.Combine(root, $"20261208-010203-{RunDirectories.HostLabel}-99999999-0123456789abcdef");
        Directory.CreateDirectory(Path.Combine(left, "c7"));
        await using (var rt = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = root }))
        {
            Assert.False(Directory.Exists(left));
            Assert.StartsWith(root, rt.WorkingDirectory);
            Assert.Contains($"-{RunDirectories.HostLabel}-{Environment.ProcessId}-", rt.WorkingDirectory);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown")]
    private static extern int Chown(string path, uint owner, uint group);
}
