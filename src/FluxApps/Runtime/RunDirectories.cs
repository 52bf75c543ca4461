using System;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace FluxApps.Runtime;

/// <summary>
/// Where a runtime's files go: its run directory (private to the user), a directory per call inside it
/// (<c>c1</c>, <c>c2</c>, ...: arguments, result, error reports, stdout/stderr), and a command app's default
/// output files. It creates and removes them; what goes in a call directory is <see cref="Payload"/>'s business.
/// </summary>
internal sealed class RunDirectories
{
    private static readonly string s_processStamp = $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}";

    private long _lastCall;

    private RunDirectories(string root) => Root = root;

    /// <summary>The run directory (<see cref="FluxAppsRuntime.WorkingDirectory"/>).</summary>
    public string Root { get; }

    /// <summary>
    /// Creates a run directory: in <paramref name="requested"/> or <c>FLUXAPPS_WORKDIR</c> when set; otherwise, when
    /// <paramref name="memoryBacked"/> (the local backend), in <c>$XDG_RUNTIME_DIR</c> or <c>/dev/shm</c>; otherwise
    /// (compute nodes must see it) under <c>~/.fluxapps/runs</c>.
    /// </summary>
    public static RunDirectories Create(string? requested, bool memoryBacked, bool keepFiles = false)
    {
        string name = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{HostLabel}-{Environment.ProcessId}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}";
        string? root = requested ?? Environment.GetEnvironmentVariable("FLUXAPPS_WORKDIR");
        string dir;
        if (root is null && memoryBacked && MemoryBackedDirectory() is { } memory)
        {
            // Local workers share this machine's memory: their files need not reach a disk. The
            // directory sits directly in the shared tmpfs (sticky, so no one else can remove it),
            // private to the user, with an unguessable name, and new: one planted there is refused.
            RemoveAbandonedRuns(memory, MemoryPrefix);
            dir = Path.Combine(memory, MemoryPrefix + name);
        }
        else
        {
            bool ownRoot = root is null;
            root ??= Path.Combine(HomeDirectory(), ".fluxapps", "runs");
            CreatePrivateDirectory(root);
            CheckRoot(root, ownRoot);
            RemoveAbandonedRuns(root, "");
            dir = Path.Combine(root, name);
        }
        CreateNewPrivateDirectory(dir);
        if (keepFiles) File.WriteAllBytes(Path.Combine(dir, KeepMarker), []);
        return new RunDirectories(dir);
    }

    private const string MemoryPrefix = "fluxapps-";

    /// <summary>In a run directory whose files are kept (<see cref="FluxAppsOptions.KeepJobFiles"/>): it is never removed as abandoned.</summary>
    internal const string KeepMarker = ".keep";

    /// <summary>This machine's name as it appears in run directory names (letters, digits, '.' and '_'), so runs on a shared home tell their machines apart.</summary>
    internal static readonly string HostLabel = Label(Environment.MachineName);

    private static string Label(string host)
    {
        var label = new StringBuilder(host.Length);
        foreach (char c in host) label.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '_');
        return label.Length == 0 ? "host" : label.ToString();
    }

    /// <summary>
    /// Removes run directories that a process of this machine made and can no longer remove itself: their process
    /// (named in the directory's name with this machine's name) is gone, killed with SIGKILL or lost with its node,
    /// and they are this user's and not kept. A directory of another machine, of a live process or of another user is never touched.
    /// </summary>
    internal static void RemoveAbandonedRuns(string parent, string prefix)
    {
        if (!OperatingSystem.IsLinux()) return;
        string marker = "-" + HostLabel + "-";
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(parent, prefix + "*" + marker + "*"))
            {
                string name = Path.GetFileName(dir)[prefix.Length..];
                int at = name.IndexOf(marker, StringComparison.Ordinal);
                // <yyyyMMdd>-<HHmmss>-<host>-<pid>-<random>
                int dash = name.LastIndexOf('-');
                if (at != 15 || dash <= at + marker.Length) continue;
                if (!int.TryParse(name.AsSpan(at + marker.Length, dash - at - marker.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
                if (pid == Environment.ProcessId || Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture))) continue;
                if (PosixFiles.Stat(dir, followLinks: false) is not var (owner, mode) || owner != PosixFiles.EffectiveUserId
                    || (mode & PosixFiles.TypeMask) != PosixFiles.Directory) continue;
                if (File.Exists(Path.Combine(dir, KeepMarker))) continue;
                TryDelete(dir);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Refuses a root for run directories in which someone else could move or replace them: writable by other
    /// users without the sticky bit (as <c>/tmp</c> has); the default root, under the home directory, must also be
    /// the user's own and writable by nobody else. A shared root the user chose (a project directory, <c>/tmp</c>)
    /// may belong to someone else: the run directory inside it is new and private either way.
    /// </summary>
    internal static void CheckRoot(string root, bool ownRoot)
    {
        if (!OperatingSystem.IsLinux() || PosixFiles.Stat(root, followLinks: true) is not var (owner, mode)) return;
        const uint GroupWrite = 0x10, OthersWrite = 0x2;
        bool sticky = (mode & PosixFiles.Sticky) != 0;
        string? problem = null;
        if ((mode & PosixFiles.TypeMask) != PosixFiles.Directory) problem = "is not a directory";
        else if ((mode & OthersWrite) != 0 && !sticky) problem = "is writable by every user and has no sticky bit";
        else if (ownRoot && owner != PosixFiles.EffectiveUserId) problem = $"belongs to user id {owner}, not to this user ({PosixFiles.EffectiveUserId})";
        else if (ownRoot && (mode & GroupWrite) != 0 && !sticky) problem = "is writable by its group";
        if (problem is null) return;
        throw new IOException(
            $"the root for run directories {root} (mode {Convert.ToString(mode & 0xFFF, 8)}) {problem}: others could move or replace this runtime's files there. " +
            "Choose another with FluxAppsOptions.WorkingDirectory or FLUXAPPS_WORKDIR, or make it private (chmod 700).");
    }

    /// <summary>Creates a private directory under a name that must be new (Linux: an exclusive <c>mkdir</c>); throws naming it when the name is taken.</summary>
    internal static void CreateNewPrivateDirectory(string path)
    {
        if (OperatingSystem.IsLinux()) PosixFiles.MakeNewDirectory(path);
        else if (Directory.Exists(path) || File.Exists(path)) throw new IOException($"{path} already exists: a run directory must be new, and something already has its name");
        else CreatePrivateDirectory(path);
    }

    /// <summary>The next call's number and the path of its directory (created with its payload, by the submitter).</summary>
    public (long Call, string Directory) NextCall()
    {
        long call = Interlocked.Increment(ref _lastCall);
        return (call, Path.Combine(Root, "c" + call.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// A command's output files, defaulting to <c>&lt;name&gt;-&lt;time&gt;-&lt;pid&gt;-&lt;call&gt;-&lt;random&gt;.out/.err</c>
    /// in the job's working directory: they are the command's results and outlive the call. The random part
    /// makes each name unguessable, so nobody who sees one in a shared directory can plant a link at the next.
    /// </summary>
    public static FluxCommand WithOutputPaths(FluxCommand command, string workingDirectory, string jobName, long call)
    {
        if (command.StdoutPath is not null && command.StderrPath is not null) return command;
        var safe = new StringBuilder(jobName.Length);
        foreach (char c in jobName) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        string random = Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        string stem = Path.Combine(workingDirectory, $"{safe}-{s_processStamp}-{call}-{random}");
        return new FluxCommand(command.Program, [.. command.Arguments])
        {
            Environment = command.Environment,
            StdoutPath = command.StdoutPath ?? stem + ".out",
            StderrPath = command.StderrPath ?? stem + ".err",
        };
    }

    /// <summary>Removes the run directory and everything left in it.</summary>
    public void RemoveRun() => TryDelete(Root);

    /// <summary>Creates a directory only its owner can enter (mode 0700 where there are modes).</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Removes a directory tree if it can; files that cannot go stay (cleanup never fails a call).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Removes a file if it can; one that cannot go stays (cleanup never fails a call; the run directory goes at the end).</summary>
    public static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>A memory-backed directory for the local backend's files: <c>$XDG_RUNTIME_DIR</c>, else <c>/dev/shm</c>, else null.</summary>
    private static string? MemoryBackedDirectory()
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtimeDir) && Directory.Exists(runtimeDir)) return runtimeDir;
        return Directory.Exists("/dev/shm") ? "/dev/shm" : null;
    }

    private static string HomeDirectory()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? Path.GetTempPath() : home;
    }
}
