using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace FluxApps.Backends;

/// <summary>
/// Starts and reaps the local backend's processes without <see cref="Process"/>: <c>posix_spawn</c>
/// (the child's stdout and stderr opened onto its files, its working directory set, signal mask and
/// dispositions reset) and one thread that waits on every child's pidfd. A <see cref="Process"/> start
/// leaves 16-20 KB of garbage behind (an environment dictionary, the envp strings, a wait state that
/// lives as long as the child); this uses native buffers freed at once, so thousands of queued and
/// running calls keep the caller small. Linux 5.3 or later with posix_spawn_file_actions_addchdir_np
/// (glibc 2.29, musl 1.1.24); elsewhere <see cref="Shared"/> is null and the backend uses <see cref="Process"/>.
/// Each child leads a session and process group of its own (<c>POSIX_SPAWN_SETSID</c>), which its kill and its
/// reap take down whole, and joins its job's cgroup, where there is one, before the spawner lets go of it.
/// </summary>
internal sealed unsafe partial class NativeSpawner
{
    private const int PidfdOpenSyscall = 434; // the same number on every Linux architecture
    private const int OpenWriteOnly = 0x1, OpenCreate = 0x40, OpenAppend = 0x400;
    private const short SpawnSetSignalDefaults = 0x04, SpawnSetSignalMask = 0x08, SpawnSetSession = 0x80;
    private const int EpollIn = 0x1, EpollCtlAdd = 1, EpollCtlDelete = 2, EpollCloseOnExec = 0x80000;
    private const int WaitNoHang = 1, WaitExited = 4, WaitNoWait = 0x01000000, WaitForPid = 1, SignalInfoSize = 128;
    private const int ErrorInterrupted = 4, ErrorNoChild = 10;
    // Opaque libc structures, with room to spare: glibc's are 80 (file actions), 336 (attributes) and 128 (sigset_t) bytes.
    private const int FileActionsSize = 256, AttributesSize = 1024, SignalSetSize = 256;

    private static readonly Lazy<NativeSpawner?> s_shared = new(Create);

    private readonly object _gate = new();
    private readonly Dictionary<int, Child> _children = new();
    private readonly int _epoll;
    // epoll_event is packed (12 bytes) on x86-64 and naturally aligned (16 bytes) elsewhere.
    private readonly int _eventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private readonly int _eventDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>The lock over the children table; a test that holds it can spawn and reap a child before the reaper sees it.</summary>
    internal object Gate => _gate;

    private NativeSpawner(int epoll)
    {
        _epoll = epoll;
        var reaper = new Thread(ReapLoop) { IsBackground = true, Name = "FluxApps local reaper" };
        reaper.UnsafeStart();
    }

    /// <summary>The process-wide spawner, or null where this system lacks what it needs (the backend then uses <see cref="Process"/>).</summary>
    public static NativeSpawner? Shared =>
        string.Equals(Environment.GetEnvironmentVariable("FLUXAPPS_LOCAL_SPAWN"), "process", StringComparison.OrdinalIgnoreCase) ? null : s_shared.Value;

    /// <summary>A new spawner with its own reaper (the backend uses <see cref="Shared"/>; tests make their own).</summary>
    internal static NativeSpawner? Create()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            if (!NativeLibrary.TryLoad("libc.so.6", out IntPtr libc) && !NativeLibrary.TryLoad("libc", out libc)) return null;
            if (!NativeLibrary.TryGetExport(libc, "posix_spawn_file_actions_addchdir_np", out _)) return null;
            int self = (int)pidfd_open_syscall(PidfdOpenSyscall, Environment.ProcessId, 0);
            if (self < 0) return null; // kernel before 5.3, or a seccomp filter that refuses pidfd_open
            close(self);
            int epoll = epoll_create1(EpollCloseOnExec);
            return epoll < 0 ? null : new NativeSpawner(epoll);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A started process, reaped by the spawner; <see cref="OnExit"/> runs on the thread pool once it has exited.</summary>
    public sealed class Child : IThreadPoolWorkItem
    {
        internal Child(Action<ExitStatus, object?> onExit, object? state)
        {
            OnExit = onExit;
            State = state;
        }

        public int Pid { get; internal set; }
        internal int PidFd = -1;
        /// <summary>In its job's cgroup, whose kill reaches every process it starts: no /proc walk needed.</summary>
        internal bool InCgroup;
        // Under the spawner's gate:
        internal bool Reaped;
        internal int Killers;        // KillTree calls in progress: the pid must not be reaped (and reused) under them
        internal bool ReapDeferred;  // it exited while a KillTree ran: the last killer reaps it
        /// <summary>How it ended, as its wait status says (exact: an exit is an exit, a signal a signal).</summary>
        public ExitStatus Exit { get; internal set; }
        internal Action<ExitStatus, object?> OnExit { get; }
        internal object? State { get; }

        void IThreadPoolWorkItem.Execute() => OnExit(Exit, State);
    }

    /// <summary>
    /// Starts <paramref name="argv"/> (argv[0] is the program: a path, or a name looked up on PATH)
    /// in <paramref name="workingDirectory"/> with stdout and stderr appended to the given files,
    /// and the caller's environment changed by <paramref name="environment"/> (a null value removes the variable;
    /// later entries win). <paramref name="onExit"/> gets the exit status and <paramref name="state"/>.
    /// The child joins <paramref name="cgroup"/> (when given) right after it starts, while it cannot yet be reaped.
    /// Throws <see cref="System.ComponentModel.Win32Exception"/> naming the program when it cannot start.
    /// </summary>
    public Child Spawn(IReadOnlyList<string> argv, string workingDirectory, string stdoutPath, string stderrPath,
        IDictionary callerEnvironment, IReadOnlyList<KeyValuePair<string, string?>> environment, Action<ExitStatus, object?> onExit, object? state,
        CgroupTree.CgroupJob? cgroup = null)
    {
        var child = new Child(onExit, state);
        var utf8 = Encoding.UTF8;
        // One native block: argv and envp pointer arrays, then every string, NUL-terminated.
        int argc = argv.Count;
        int envc = 0;
        nuint bytes = 0;
        foreach (string a in argv) bytes += (nuint)utf8.GetByteCount(a) + 1;
        foreach (DictionaryEntry e in callerEnvironment)
        {
            if (e.Key is not string key || e.Value is not string value || IsOverridden(environment, key, -1)) continue;
            bytes += (nuint)(utf8.GetByteCount(key) + utf8.GetByteCount(value)) + 2;
            envc++;
        }
        for (int i = 0; i < environment.Count; i++)
        {
            var (key, value) = environment[i];
            if (value is null || IsOverridden(environment, key, i)) continue;
            bytes += (nuint)(utf8.GetByteCount(key) + utf8.GetByteCount(value)) + 2;
            envc++;
        }
        bytes += (nuint)(utf8.GetByteCount(workingDirectory) + utf8.GetByteCount(stdoutPath) + utf8.GetByteCount(stderrPath)) + 3;
        nuint pointers = (nuint)(argc + 1 + envc + 1) * (nuint)sizeof(byte*);
        nuint scratch = FileActionsSize + AttributesSize + 2 * SignalSetSize;
        byte* block = (byte*)NativeMemory.Alloc(pointers + scratch + bytes);
        try
        {
            byte** argvPtr = (byte**)block;
            byte** envpPtr = argvPtr + argc + 1;
            byte* fileActions = block + pointers;
            byte* attributes = fileActions + FileActionsSize;
            byte* signalMask = attributes + AttributesSize;
            byte* signalDefaults = signalMask + SignalSetSize;
            byte* text = signalDefaults + SignalSetSize;
            byte* end = text + bytes;

            for (int i = 0; i < argc; i++) argvPtr[i] = Put(ref text, end, argv[i], null);
            argvPtr[argc] = null;
            int n = 0;
            foreach (DictionaryEntry e in callerEnvironment)
            {
                if (e.Key is not string key || e.Value is not string value || IsOverridden(environment, key, -1)) continue;
                envpPtr[n++] = Put(ref text, end, key, value);
            }
            for (int i = 0; i < environment.Count; i++)
            {
                var (key, value) = environment[i];
                if (value is null || IsOverridden(environment, key, i)) continue;
                envpPtr[n++] = Put(ref text, end, key, value);
            }
            envpPtr[n] = null;
            byte* cwd = Put(ref text, end, workingDirectory, null);
            byte* stdout = Put(ref text, end, stdoutPath, null);
            byte* stderr = Put(ref text, end, stderrPath, null);

            Check(posix_spawn_file_actions_init(fileActions), argv[0]);
            try
            {
                Check(posix_spawnattr_init(attributes), argv[0]);
                try
                {
                    Check(posix_spawn_file_actions_addopen(fileActions, 1, stdout, OpenWriteOnly | OpenCreate | OpenAppend, 0x180), argv[0]);
                    Check(posix_spawn_file_actions_addopen(fileActions, 2, stderr, OpenWriteOnly | OpenCreate | OpenAppend, 0x180), argv[0]);
                    Check(posix_spawn_file_actions_addchdir_np(fileActions, cwd), argv[0]);
                    // .NET ignores SIGPIPE and its threads may block signals: a child starts as if from a shell.
                    sigemptyset(signalMask);
                    sigfillset(signalDefaults);
                    // sigfillset leaves out libc's internal signals (32 and 33), which glibc's posix_spawn then sets
                    // to SIG_IGN in the child, and an ignored signal stays ignored across exec: reset them too.
                    signalDefaults[3] |= 0x80; // signal 32 is bit 31
                    signalDefaults[4] |= 0x01; // signal 33 is bit 32
                    Check(posix_spawnattr_setsigmask(attributes, signalMask), argv[0]);
                    Check(posix_spawnattr_setsigdefault(attributes, signalDefaults), argv[0]);
                    Check(posix_spawnattr_setflags(attributes, SpawnSetSignalDefaults | SpawnSetSignalMask | SpawnSetSession), argv[0]);
                    int pid;
                    // Registered under the gate before the reaper can see the pidfd.
                    lock (_gate)
                    {
                        int error = argv[0].Contains('/')
                            ? posix_spawn(&pid, argvPtr[0], fileActions, attributes, argvPtr, envpPtr)
                            : posix_spawnp(&pid, argvPtr[0], fileActions, attributes, argvPtr, envpPtr);
                        if (error != 0)
                            throw new System.ComponentModel.Win32Exception(error, $"{argv[0]} could not start in {workingDirectory}: {Marshal.GetPInvokeErrorMessage(error)}");
                        child.Pid = pid;
                        // Under the gate the child cannot be reaped, so the pid written is still its own.
                        child.InCgroup = cgroup?.TryAdd(pid) == true;
                        // An unreaped child stays a zombie, so this works even if it has already exited.
                        int pidfd = (int)pidfd_open_syscall(PidfdOpenSyscall, pid, 0);
                        if (pidfd < 0)
                        {
                            int errno = Marshal.GetLastPInvokeError();
                            kill(pid, 9);
                            waitpid(pid, out _, 0);
                            throw new System.ComponentModel.Win32Exception(errno, $"{argv[0]} started but cannot be watched (pidfd_open): {Marshal.GetPInvokeErrorMessage(errno)}");
                        }
                        child.PidFd = pidfd;
                        _children[pid] = child;
                        if (!Watch(child))
                        {
                            int errno = Marshal.GetLastPInvokeError();
                            _children.Remove(pid);
                            close(pidfd);
                            kill(pid, 9);
                            waitpid(pid, out _, 0);
                            throw new System.ComponentModel.Win32Exception(errno, $"{argv[0]} started but cannot be watched (epoll): {Marshal.GetPInvokeErrorMessage(errno)}");
                        }
                    }
                }
                finally
                {
                    posix_spawnattr_destroy(attributes);
                }
            }
            finally
            {
                posix_spawn_file_actions_destroy(fileActions);
            }
        }
        finally
        {
            NativeMemory.Free(block);
        }
        return child;
    }

    /// <summary>Adds the child's pidfd to the reaper's epoll set (under the gate).</summary>
    private bool Watch(Child child)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = EpollIn;
        *(ulong*)(ev + _eventDataOffset) = (ulong)child.Pid;
        return epoll_ctl(_epoll, EpollCtlAdd, child.PidFd, ev) == 0;
    }

    private static bool IsOverridden(IReadOnlyList<KeyValuePair<string, string?>> environment, string key, int after)
    {
        for (int i = after + 1; i < environment.Count; i++)
            if (string.Equals(environment[i].Key, key, StringComparison.Ordinal)) return true;
        return false;
    }

    private static byte* Put(ref byte* text, byte* end, string first, string? second)
    {
        byte* start = text;
        var utf8 = Encoding.UTF8;
        text += utf8.GetBytes(first, new Span<byte>(text, (int)(end - text)));
        if (second is not null)
        {
            *text++ = (byte)'=';
            text += utf8.GetBytes(second, new Span<byte>(text, (int)(end - text)));
        }
        *text++ = 0;
        return start;
    }

    private static void Check(int error, string program)
    {
        if (error != 0)
            throw new System.ComponentModel.Win32Exception(error, $"{program} could not be prepared to start: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    /// <summary>
    /// Kills <paramref name="child"/>, its process group and (outside a cgroup, where a descendant may have moved to a
    /// group of its own) its descendants, unless it has already been reaped (its pid may then be another process's). The
    /// gate covers only the table work: signalling runs outside it, so spawns and the reaper never wait for a kill;
    /// meanwhile the child is not reaped, so neither its pid nor its group id can be reused.
    /// </summary>
    public void KillTree(Child child) => WhileUnreaped(child, pid =>
    {
        // Stopped first, so it cannot exit on its own (and report success) when its children die
        // under it; then the rest, while the child (stopped or a zombie) still holds its pid,
        // so none can be reparented to a stranger's pid; then the child itself.
        kill(pid, SIGSTOP);
        kill(-pid, SIGKILL);
        if (!child.InCgroup)
        {
            foreach (int descendant in TreeWalker(pid)) kill(descendant, SIGKILL);
        }
        kill(pid, SIGKILL);
    });

    /// <summary>
    /// Asks <paramref name="child"/>, its process group and (outside a cgroup) its descendants to end (SIGTERM), unless
    /// it has already been reaped; the caller follows with <see cref="KillTree"/> after a grace. Not stopped first: a
    /// stopped process cannot handle it.
    /// </summary>
    public void TerminateTree(Child child) => WhileUnreaped(child, pid =>
    {
        if (!child.InCgroup)
        {
            foreach (int descendant in TreeWalker(pid)) kill(descendant, SIGTERM);
        }
        kill(-pid, SIGTERM);
    });

    /// <summary>Passes <paramref name="signal"/> on to the child's process group (a terminal's Ctrl+C no longer reaches it: it leads a session of its own).</summary>
    public void SignalGroup(Child child, int signal) => WhileUnreaped(child, pid => kill(-pid, signal));

    /// <summary>
    /// Runs <paramref name="signal"/> on the child's pid while the child cannot be reaped (so its pid cannot be
    /// reused under the signals), without holding the lock the reaper and every spawn need; a reap that had to
    /// wait for it happens at the end. Does nothing for a child already reaped.
    /// </summary>
    internal void WhileUnreaped(Child child, Action<int> signal)
    {
        lock (_gate)
        {
            if (child.Reaped) return;
            child.Killers++;
        }
        try
        {
            signal(child.Pid);
        }
        finally
        {
            bool reaped = false;
            lock (_gate)
            {
                if (--child.Killers == 0 && child.ReapDeferred)
                {
                    child.ReapDeferred = false;
                    reaped = TryReapLocked(child);
                    if (!reaped) Watch(child); // cannot happen (its pidfd said it exited); never lose a child
                }
            }
            if (reaped) ThreadPool.UnsafeQueueUserWorkItem(child, preferLocal: false);
        }
    }

    /// <summary>How <see cref="KillTree"/> finds a process's descendants (replaceable so tests can watch the walk).</summary>
    internal Func<int, List<int>> TreeWalker { get; set; } = Descendants;

    /// <summary>The descendants of <paramref name="root"/>, children before grandchildren, from /proc's parent links.</summary>
    internal static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, List<int>>();
        try
        {
            foreach (string dir in System.IO.Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(System.IO.Path.GetFileName(dir), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) continue;
                int parent = ParentOf(dir);
                if (parent <= 0) continue;
                if (!parents.TryGetValue(parent, out var children)) parents[parent] = children = new List<int>();
                children.Add(pid);
            }
        }
        catch (System.IO.IOException) { }
        catch (UnauthorizedAccessException) { }
        var found = new List<int>();
        var pending = new Queue<int>();
        pending.Enqueue(root);
        while (pending.Count > 0 && found.Count < 100_000)
        {
            if (!parents.TryGetValue(pending.Dequeue(), out var children)) continue;
            foreach (int c in children)
            {
                found.Add(c);
                pending.Enqueue(c);
            }
        }
        return found;
    }

    /// <summary>The parent pid in /proc/PID/stat (field 4, after the parenthesised name, which may hold spaces), or -1.</summary>
    private static int ParentOf(string procDirectory)
    {
        try
        {
            string stat = System.IO.File.ReadAllText(System.IO.Path.Combine(procDirectory, "stat"));
            int close = stat.LastIndexOf(')');
            if (close < 0) return -1;
            string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 1 && int.TryParse(fields[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ppid) ? ppid : -1;
        }
        catch (System.IO.IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    private void ReapLoop()
    {
        const int MaxEvents = 64;
        byte* events = stackalloc byte[MaxEvents * 16];
        while (true)
        {
            int count = epoll_wait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                if (Marshal.GetLastPInvokeError() == ErrorInterrupted) continue;
                Thread.Sleep(10); // cannot happen with a valid epoll descriptor; never spin
                continue;
            }
            for (int i = 0; i < count; i++)
            {
                int pid = (int)*(ulong*)(events + i * _eventSize + _eventDataOffset);
                Child? child;
                lock (_gate)
                {
                    if (!_children.TryGetValue(pid, out child)) continue;
                    if (child.Killers > 0)
                    {
                        // A KillTree is walking this child's tree: keep its pid reserved; the last killer reaps it.
                        child.ReapDeferred = true;
                        epoll_ctl(_epoll, EpollCtlDelete, child.PidFd, null);
                        continue;
                    }
                    if (!TryReapLocked(child)) continue;
                }
                ThreadPool.UnsafeQueueUserWorkItem(child, preferLocal: false);
            }
        }
    }

    /// <summary>Reaps an exited child (under the gate); false when it has not exited after all.</summary>
    private bool TryReapLocked(Child child)
    {
        // What the child left in its process group dies with it (Flux's job shell does the same); the child, not yet
        // reaped, still holds the group's id, so the kill cannot reach anyone else's group.
        if (HasExited(child.Pid)) kill(-child.Pid, SIGKILL);
        int reaped = waitpid(child.Pid, out int status, WaitNoHang);
        if (reaped == 0) return false; // not exited: wait for the next event
        int errno = reaped < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (reaped < 0 && errno != ErrorNoChild) return false;
        child.Exit = StatusOfWait(reaped, errno, status);
        child.Reaped = true;
        _children.Remove(child.Pid);
        epoll_ctl(_epoll, EpollCtlDelete, child.PidFd, null); // fails harmlessly when a deferred reap removed it already
        close(child.PidFd);
        child.PidFd = -1;
        return true;
    }

    /// <summary>Whether the child has exited, leaving it a zombie (waitid with WNOWAIT: its pid stays reserved).</summary>
    private static bool HasExited(int pid)
    {
        byte* info = stackalloc byte[SignalInfoSize];
        new Span<byte>(info, SignalInfoSize).Clear();
        // With WNOHANG and nothing to report, si_signo stays 0; an exited child's is SIGCHLD.
        return waitid(WaitForPid, pid, info, WaitExited | WaitNoHang | WaitNoWait) == 0 && *(int*)info != 0;
    }

    /// <summary>
    /// The exit status from <c>waitpid</c>'s result: the decoded wait status, or unknown when the child was
    /// reaped elsewhere (ECHILD: e.g. SIGCHLD set to SIG_IGN), which must never read as success.
    /// </summary>
    internal static ExitStatus StatusOfWait(int reaped, int errno, int status) =>
        reaped > 0 ? ExitStatus.FromWaitStatus(status)
        : ExitStatus.Unknown(errno == ErrorNoChild
            ? "its wait status was taken by something else in this process (waitpid: ECHILD; is SIGCHLD ignored?)"
            : "waitpid failed: " + Marshal.GetPInvokeErrorMessage(errno));

    [LibraryImport("libc")]
    private static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc")]
    private static partial int posix_spawnp(int* pid, byte* file, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, byte* path, int flags, int mode);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addchdir_np(void* fileActions, byte* path);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigmask(void* attributes, void* mask);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigdefault(void* attributes, void* signals);

    [LibraryImport("libc")]
    private static partial int sigemptyset(void* set);

    [LibraryImport("libc")]
    private static partial int sigfillset(void* set);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long pidfd_open_syscall(long number, long pid, long flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, out int status, int options);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitid(int idType, int id, void* info, int options);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epoll, int operation, int fd, void* eventData);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epoll, void* events, int maxEvents, int timeout);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    private const int SIGSTOP = 19; // Linux
    private const int SIGTERM = 15;
    private const int SIGKILL = 9;

    /// <summary>A signal to one process (a rank started through <see cref="System.Diagnostics.Process"/>, a process listed in a cgroup).</summary>
    internal static void Signal(int pid, int signal) => kill(pid, signal);
}
