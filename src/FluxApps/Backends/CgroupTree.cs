using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Backends;

/// <summary>
/// The local backend's cgroup v2 subtree: <c>fluxapps-&lt;pid&gt;-&lt;random&gt;</c> under this process's own cgroup,
/// with one child cgroup per job. A job's processes cannot leave it (a double fork or <c>setsid</c> escapes a process
/// group, never a cgroup), so killing it kills everything the job started. Only membership and <c>cgroup.kill</c> are
/// used: no controller is enabled, so the tree sits anywhere, also beside processes in the caller's cgroup.
/// </summary>
internal sealed partial class CgroupTree : IAsyncDisposable
{
    /// <summary>Set to <c>off</c> to contain jobs by session and process group only.</summary>
    public const string Variable = "FLUXAPPS_LOCAL_CGROUP";

    private const int WriteAccess = 2; // access(2)'s W_OK
    private const int SIGKILL = 9;

    private readonly object _gate = new();
    private readonly List<Task> _ending = new();
    private bool _disposed;

    private CgroupTree(string directory, bool hasKill)
    {
        Directory = directory;
        HasKill = hasKill;
    }

    /// <summary>The tree's own cgroup directory (under the cgroup2 mount).</summary>
    public string Directory { get; }

    /// <summary>Whether the kernel has <c>cgroup.kill</c> (Linux 5.14); without it a kill freezes the cgroup and kills each process it lists.</summary>
    internal bool HasKill { get; set; }

    /// <summary>
    /// The tree, or null with <paramref name="whyNot"/> saying why there is none: not Linux, turned off, no cgroup2
    /// mount, or this user may not create cgroups or move processes here (not root, no delegated subtree).
    /// </summary>
    public static CgroupTree? TryCreate(out string whyNot)
    {
        if (!OperatingSystem.IsLinux())
        {
            whyNot = "cgroups are Linux's";
            return null;
        }
        if (string.Equals(Environment.GetEnvironmentVariable(Variable), "off", StringComparison.OrdinalIgnoreCase))
        {
            whyNot = $"cgroups off: {Variable}=off";
            return null;
        }
        string? own = OwnCgroupDirectory(out whyNot);
        if (own is null) return null;
        if (access(Path.Combine(own, "cgroup.procs"), WriteAccess) != 0)
        {
            whyNot = $"no cgroup v2 to use: {own} is not writable by this user (not root, and not a delegated subtree)";
            return null;
        }
        RemoveAbandonedTrees(own);
        string name = $"fluxapps-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Random.Shared.Next():x8}";
        string directory = Path.Combine(own, name);
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            whyNot = $"no cgroup v2 to use: {directory} could not be made: {ex.Message}";
            return null;
        }
        whyNot = "";
        return new CgroupTree(directory, File.Exists(Path.Combine(directory, "cgroup.kill")));
    }

    /// <summary>This process's cgroup v2 directory: its <c>0::</c> line in /proc/self/cgroup under the cgroup2 mount in /proc/self/mountinfo.</summary>
    internal static string? OwnCgroupDirectory(out string whyNot)
    {
        string? relative = null;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/cgroup"))
            {
                if (line.StartsWith("0::", StringComparison.Ordinal)) relative = line[3..];
            }
            if (relative is null)
            {
                whyNot = "no cgroup v2 to use: /proc/self/cgroup has no unified (0::) line";
                return null;
            }
            foreach (string line in File.ReadLines("/proc/self/mountinfo"))
            {
                if (ParseCgroup2Mount(line) is not var (root, mountPoint)) continue;
                string below = root == "/" ? relative
                    : relative == root || relative.StartsWith(root + "/", StringComparison.Ordinal) ? relative[root.Length..]
                    : "";
                if (root != "/" && below.Length == 0 && relative != root) continue; // a mount of another part of the hierarchy
                whyNot = "";
                return mountPoint.TrimEnd('/') + (below == "/" ? "" : below);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            whyNot = "no cgroup v2 to use: " + ex.Message;
            return null;
        }
        whyNot = "no cgroup v2 to use: /proc/self/mountinfo lists no cgroup2 mount";
        return null;
    }

    /// <summary>The root and mount point of a mountinfo line for a cgroup2 file system, else null (proc(5): fields, " - ", type).</summary>
    internal static (string Root, string MountPoint)? ParseCgroup2Mount(string line)
    {
        int separator = line.IndexOf(" - ", StringComparison.Ordinal);
        if (separator < 0) return null;
        string[] after = line[(separator + 3)..].Split(' ');
        if (after.Length < 1 || after[0] != "cgroup2") return null;
        string[] before = line[..separator].Split(' ');
        if (before.Length < 5) return null;
        return (Unescape(before[3]), Unescape(before[4]));
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as three octal digits after a backslash.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var text = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && field.AsSpan(i + 1, 3) is var octal && octal[0] is >= '0' and <= '3' && octal[1] is >= '0' and <= '7' && octal[2] is >= '0' and <= '7')
            {
                text.Append((char)((octal[0] - '0') * 64 + (octal[1] - '0') * 8 + (octal[2] - '0')));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }

    /// <summary>Trees of callers that died without removing them (SIGKILL): empty ones go; a populated cgroup cannot be removed, so nothing running is touched.</summary>
    private static void RemoveAbandonedTrees(string own)
    {
        try
        {
            foreach (string tree in System.IO.Directory.EnumerateDirectories(own, "fluxapps-*-*"))
            {
                string[] parts = Path.GetFileName(tree).Split('-');
                if (parts.Length != 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
                if (pid == Environment.ProcessId || System.IO.Directory.Exists("/proc/" + parts[1])) continue;
                foreach (string job in System.IO.Directory.EnumerateDirectories(tree)) rmdir(job);
                rmdir(tree);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>A new cgroup for one job, or null when it cannot be made (the job is then contained by process groups alone).</summary>
    public CgroupJob? CreateJob(string name)
    {
        string path = Path.Combine(Directory, name);
        lock (_gate)
        {
            if (_disposed) return null;
        }
        try
        {
            System.IO.Directory.CreateDirectory(path);
            return new CgroupJob(this, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The pids in a cgroup's <c>cgroup.procs</c> (empty when it is gone).</summary>
    internal static List<int> ReadPids(string cgroup)
    {
        var pids = new List<int>();
        try
        {
            foreach (string line in File.ReadLines(Path.Combine(cgroup, "cgroup.procs")))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) pids.Add(pid);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        return pids;
    }

    /// <summary>Writes a cgroup control file as the kernel wants it: opened for writing without truncation, one write.</summary>
    internal static bool TryWrite(string path, string text)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            RandomAccess.Write(handle, Encoding.ASCII.GetBytes(text), 0);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void Track(Task ending)
    {
        lock (_gate)
        {
            _ending.RemoveAll(t => t.IsCompleted);
            _ending.Add(ending);
        }
    }

    /// <summary>Kills what is left in every job cgroup, waits for them to go, and removes the tree.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] ending;
        lock (_gate)
        {
            _disposed = true;
            ending = _ending.ToArray();
        }
        await Task.WhenAll(ending).ConfigureAwait(false);
        try
        {
            foreach (string job in System.IO.Directory.EnumerateDirectories(Directory))
                await new CgroupJob(this, job).EndAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        for (int i = 0; i < 500 && rmdir(Directory) != 0 && System.IO.Directory.Exists(Directory); i++)
            await Task.Delay(10).ConfigureAwait(false);
    }

    /// <summary>One job's cgroup.</summary>
    public sealed class CgroupJob
    {
        private readonly CgroupTree _tree;
        private int _ended;

        internal CgroupJob(CgroupTree tree, string path)
        {
            _tree = tree;
            Path = path;
        }

        /// <summary>The cgroup's directory.</summary>
        public string Path { get; }

        /// <summary>Moves <paramref name="pid"/> (a process the caller keeps unreaped, so the pid is that process's) into the job's cgroup.</summary>
        public bool TryAdd(int pid) => TryWrite(System.IO.Path.Combine(Path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

        /// <summary>
        /// SIGKILL to every process in the cgroup, at once (<c>cgroup.kill</c>); before Linux 5.14, frozen first (where
        /// <c>cgroup.freeze</c> exists) so none can fork or exit and free its pid, then each listed process.
        /// </summary>
        public void Kill()
        {
            if (_tree.HasKill && TryWrite(System.IO.Path.Combine(Path, "cgroup.kill"), "1")) return;
            string freeze = System.IO.Path.Combine(Path, "cgroup.freeze");
            bool frozen = File.Exists(freeze) && TryWrite(freeze, "1");
            // Unfrozen, a process may fork between the read and the kill: go round until none is listed.
            for (int round = 0; round < (frozen ? 1 : 100); round++)
            {
                var pids = ReadPids(Path);
                if (pids.Count == 0) break;
                foreach (int pid in pids) NativeSpawner.Signal(pid, SIGKILL);
            }
            if (frozen) TryWrite(freeze, "0");
        }

        /// <summary>Kills what the job left and removes its cgroup once it is empty (in the background; the tree's dispose waits for it).</summary>
        public void End()
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0) return;
            Kill();
            if (rmdir(Path) == 0) return;
            _tree.Track(Task.Run(EndAsync));
        }

        internal async Task EndAsync()
        {
            // A killed process leaves its cgroup once it has exited; rmdir fails (EBUSY) until the last one has.
            for (int i = 0; i < 1000; i++)
            {
                if (rmdir(Path) == 0 || !System.IO.Directory.Exists(Path)) return;
                if (i % 50 == 0) Kill();
                await Task.Delay(10).ConfigureAwait(false);
            }
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int access(string path, int mode);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int rmdir(string path);
}
