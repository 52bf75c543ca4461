using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FluxApps.Benchmarks;

/// <summary>The ways the soak makes a call fail on purpose (None: the call must return its value).</summary>
public enum SoakFault
{
    None,
    /// <summary>The app throws: <see cref="FluxAppException"/> with its type and message.</summary>
    Throw,
    /// <summary>The app calls Environment.Exit with a nonzero code: <see cref="FluxJobFailureKind.Exited"/> with that code.</summary>
    Exit,
    /// <summary>The app kills itself with a signal: <see cref="FluxJobFailureKind.Signaled"/> with that signal.</summary>
    Signal,
    /// <summary>The app sleeps past its time limit: <see cref="FluxJobFailureKind.TimeLimit"/>.</summary>
    TimeLimit,
    /// <summary>Cancelled before it can run (token cancelled before submission, or the call cancelled right after it, usually queued).</summary>
    CancelBeforeRun,
    /// <summary>Cancelled once the job is running.</summary>
    CancelWhileRunning,
    /// <summary>A request no machine can satisfy: <see cref="FluxJobFailureKind.Rejected"/>.</summary>
    Unsatisfiable,
}

/// <summary>What a soak run does.</summary>
public sealed record SoakOptions
{
    public FluxBackend Backend { get; init; } = FluxBackend.Local;
    public int Calls { get; init; } = 5000;
    /// <summary>Fraction of calls that fail on purpose, spread evenly over <see cref="FaultKinds"/>.</summary>
    public double Faults { get; init; } = 0.2;
    public int Seed { get; init; } = 1;
    /// <summary>Calls in flight at most; 0 chooses (4 per core locally, 16 on Flux).</summary>
    public int Concurrency { get; init; }
    public IReadOnlyList<SoakFault> FaultKinds { get; init; } = Enum.GetValues<SoakFault>().Where(k => k != SoakFault.None).ToArray();
    /// <summary>Exit codes of the Exit faults, used in turn.</summary>
    public IReadOnlyList<int> ExitCodes { get; init; } = [3, 130];
    /// <summary>Signals of the Signal faults, used in turn.</summary>
    public IReadOnlyList<int> Signals { get; init; } = [9, 11];
    /// <summary>Root of the runtime's working directory; null: the runtime's default (and the default directories are checked for leftovers).</summary>
    public string? WorkingDirectory { get; init; }
    /// <summary>How long after the last submission a future may take before it counts as lost.</summary>
    public TimeSpan LostDeadline { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>
    /// Count every child of this process still alive after dispose as an orphan: right for a program that
    /// runs nothing but the soak, wrong in a test host where other tests start processes.
    /// </summary>
    public bool CountChildProcesses { get; init; }

    /// <summary>
    /// Reads the runtime's event stream and listens to its activities and metrics while the calls run, and checks that
    /// each call told its story once and whole (<see cref="SoakTelemetry"/>).
    /// </summary>
    public bool Telemetry { get; init; }
    /// <summary>Progress lines (null: none).</summary>
    public TextWriter? Log { get; init; }

    public int EffectiveConcurrency => Concurrency > 0 ? Concurrency : Backend == FluxBackend.Flux ? 16 : 4 * Environment.ProcessorCount;
}

/// <summary>One call whose outcome was not the one expected.</summary>
public sealed record SoakMismatch(int Index, SoakFault Fault, string Expected, string Got);

/// <summary>The figures of a soak run.</summary>
public sealed record SoakReport
{
    public required string Backend { get; init; }
    public required int Calls { get; init; }
    public required IReadOnlyDictionary<SoakFault, int> CallsByFault { get; init; }
    public required int Concurrency { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required int Lost { get; init; }
    public required IReadOnlyList<SoakMismatch> Wrong { get; init; }
    public required IReadOnlyList<string> Orphans { get; init; }
    public required IReadOnlyList<string> Leftovers { get; init; }
    /// <summary>What did not add up in the telemetry (<see cref="SoakOptions.Telemetry"/>); null when it was not checked.</summary>
    public IReadOnlyList<string>? TelemetryProblems { get; init; }
    public required int RssCheckpointCalls { get; init; }
    public required double RssAtCheckpointMiB { get; init; }
    public required double RssAtEndMiB { get; init; }

    public required double HeapAtCheckpointMiB { get; init; }
    public required double HeapAtEndMiB { get; init; }
    public required double CommittedAtCheckpointMiB { get; init; }
    public required double CommittedAtEndMiB { get; init; }

    /// <summary>An outcome with the call's own numbers (index in a message) left out, to group alike failures.</summary>
    private static string Generic(string outcome) => System.Text.RegularExpressions.Regex.Replace(outcome, @"soak fault \d+", "soak fault N");

    public double RssRatio => RssAtCheckpointMiB > 0 ? RssAtEndMiB / RssAtCheckpointMiB : double.NaN;

    /// <summary>No lost future, wrong outcome, orphan process or leftover file.</summary>
    public bool Passed => Lost == 0 && Wrong.Count == 0 && Orphans.Count == 0 && Leftovers.Count == 0 && TelemetryProblems is null or { Count: 0 };

    public void Print(TextWriter output)
    {
        string mix = string.Join(", ", CallsByFault.Where(p => p.Key != SoakFault.None).Select(p => $"{p.Value} {p.Key}"));
        output.WriteLine($"RESULT soak: {Calls} calls on {Backend}, {CallsByFault.GetValueOrDefault(SoakFault.None)} plain and {Calls - CallsByFault.GetValueOrDefault(SoakFault.None)} faulty ({mix}), " +
                         $"at most {Concurrency} in flight, {Elapsed.TotalSeconds:F1} s ({Calls / Elapsed.TotalSeconds:F1} calls/s)");
        output.WriteLine($"lost futures: {Lost}");
        output.WriteLine($"wrong outcomes: {Wrong.Count}");
        // Grouped first: one bug usually accounts for many calls.
        foreach (var g in Wrong.GroupBy(w => (w.Fault, Expected: Generic(w.Expected), Got: Generic(w.Got))).OrderByDescending(g => g.Count()))
            output.WriteLine($"  {g.Count()} x {g.Key.Fault}: expected {g.Key.Expected}; got {g.Key.Got}");
        foreach (var w in Wrong.Take(10))
            output.WriteLine($"  call {w.Index} ({w.Fault}): expected {w.Expected}; got {w.Got}");
        if (Wrong.Count > 10) output.WriteLine($"  ... and {Wrong.Count - 10} more");
        output.WriteLine($"orphan processes: {Orphans.Count}");
        foreach (var o in Orphans.Take(10)) output.WriteLine("  " + o);
        output.WriteLine($"leftover files: {Leftovers.Count}");
        foreach (var f in Leftovers.Take(10)) output.WriteLine("  " + f);
        if (TelemetryProblems is { } problems)
        {
            output.WriteLine($"telemetry mismatches (event stream, activities, metrics): {problems.Count}");
            foreach (var p in problems.Take(10)) output.WriteLine("  " + p);
        }
        output.WriteLine($"client RSS after {RssCheckpointCalls} calls: {RssAtCheckpointMiB:F1} MiB (managed heap {HeapAtCheckpointMiB:F1} MiB, GC committed {CommittedAtCheckpointMiB:F1} MiB)");
        output.WriteLine($"client RSS at the end: {RssAtEndMiB:F1} MiB (managed heap {HeapAtEndMiB:F1} MiB, GC committed {CommittedAtEndMiB:F1} MiB)");
        output.WriteLine($"RSS ratio end/after-{RssCheckpointCalls}: {RssRatio:F3} (target <= 1.20)");
        if (TelemetryProblems is not null)
            output.WriteLine("  (with the telemetry check the soak keeps every call's future and events until the end: the memory figures include them)");
    }
}

/// <summary>
/// Many small calls with a known share of failures, each call's outcome known in advance; then
/// checks what the runtime left behind once disposed. The benchmarks' <c>soak</c> mode and an
/// end-to-end test run this same code.
/// </summary>
public static class Soak
{
    private const int LongSleepMs = 30_000; // far past every time limit and cancellation below
    private const string TimeLimit = "1s";
    private const int UnsatisfiableCpus = 10_000;

    /// <summary>A rough duration, for the user to size the run: per-call cost, plus the cores the slow faults hold.</summary>
    public static TimeSpan Estimate(SoakOptions options)
    {
        int cores = Environment.ProcessorCount;
        int faults = (int)Math.Round(options.Calls * options.Faults);
        int perKind = options.FaultKinds.Count == 0 ? 0 : faults / options.FaultKinds.Count;
        double slowSeconds = (options.FaultKinds.Contains(SoakFault.TimeLimit) ? perKind * 1.2 : 0) +
                             (options.FaultKinds.Contains(SoakFault.CancelWhileRunning) ? perKind * 0.4 : 0);
        double perCall = options.Backend == FluxBackend.Flux ? 1.0 / 15 : 0.06 / cores;
        return TimeSpan.FromSeconds(options.Calls * perCall + slowSeconds / cores);
    }

    /// <summary>Which calls fail and how: a seeded shuffle picks the faulty calls, kinds taken in turn so each gets its share.</summary>
    public static SoakFault[] Plan(SoakOptions options)
    {
        var plan = new SoakFault[options.Calls];
        if (options.FaultKinds.Count == 0) return plan;
        int faults = Math.Clamp((int)Math.Round(options.Calls * options.Faults), 0, options.Calls);
        int[] order = Enumerable.Range(0, options.Calls).ToArray();
        new Random(options.Seed).Shuffle(order);
        for (int i = 0; i < faults; i++) plan[order[i]] = options.FaultKinds[i % options.FaultKinds.Count];
        return plan;
    }

    public static async Task<SoakReport> RunAsync(SoakOptions options)
    {
        var plan = Plan(options);
        int concurrency = options.EffectiveConcurrency;
        int checkpoint = Math.Min(1000, Math.Max(1, options.Calls / 2));
        var scratch = new HashSet<string>(MemoryRunDirectories());
        string? root = options.WorkingDirectory;
        if (root is not null) Directory.CreateDirectory(root);

        var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = options.Backend, WorkingDirectory = root });
        using var telemetry = options.Telemetry ? SoakTelemetry.Start(runtime) : null;
        string workingDirectory = runtime.WorkingDirectory;
        string? fluxRunDirectory = FluxRunDirectory(runtime.FluxUri);
        string backend = runtime.BackendDescription + (runtime.FluxUri is { } uri ? $" ({uri})" : "");
        options.Log?.WriteLine($"soak: {options.Calls} calls on {backend}, faults {options.Faults:P0}, seed {options.Seed}, at most {concurrency} in flight; " +
                               $"estimate ~{Estimate(options).TotalSeconds:F0} s");

        var calls = new SoakCall[options.Calls];
        var random = new Random(options.Seed ^ 0x5eed);
        var clock = Stopwatch.StartNew();
        double rssCheckpoint = 0, heapCheckpoint = 0, committedCheckpoint = 0;
        int completed = 0;
        // Not disposed: a call released after the lost-deadline may still give its slot back later.
        var gate = new SemaphoreSlim(concurrency);
        var turns = new Dictionary<SoakFault, int>();
        var progress = Stopwatch.StartNew();
        for (int i = 0; i < calls.Length; i++)
        {
            await gate.WaitAsync();
            int turn = turns.GetValueOrDefault(plan[i]);
            turns[plan[i]] = turn + 1;
            var call = StartOrRecord(runtime, i, plan[i], turn, options, random);
            // The future itself only for the telemetry check: kept, 5,000 futures and their events would weigh on the memory figures.
            calls[i] = call = options.Telemetry ? call : call with { Future = null };
            _ = call.Done.ContinueWith(_ => Interlocked.Increment(ref completed), TaskScheduler.Default);
            // The slot comes back when the call completes, or after the deadline if it never does (it then counts as lost).
            // (WaitAsync drops its timer when the call completes: no 5,000 live timers inflating the client's memory.)
            _ = call.Done.WaitAsync(options.LostDeadline).ContinueWith(_ => gate.Release(), TaskScheduler.Default);
            if (rssCheckpoint == 0 && Volatile.Read(ref completed) >= checkpoint) (rssCheckpoint, heapCheckpoint, committedCheckpoint) = MemoryAfterGcMiB();
            if (progress.Elapsed > TimeSpan.FromSeconds(15))
            {
                options.Log?.WriteLine($"  {i + 1} submitted, {Volatile.Read(ref completed)} done, {runtime.PendingCount} pending, {clock.Elapsed.TotalSeconds:F0} s");
                progress.Restart();
            }
        }
        await Task.WhenAny(Task.WhenAll(calls.Select(c => c.Done)), Task.Delay(options.LostDeadline));
        if (rssCheckpoint == 0) (rssCheckpoint, heapCheckpoint, committedCheckpoint) = MemoryAfterGcMiB();
        var elapsed = clock.Elapsed;
        int lost = calls.Count(c => !c.Done.IsCompleted);
        var wrong = new List<SoakMismatch>();
        foreach (var c in calls.Where(c => c.Done.IsCompleted))
        {
            string got = Describe(c.Done);
            if (got != c.Expected) wrong.Add(new SoakMismatch(c.Index, c.Fault, c.Expected, got));
        }
        var (rssEnd, heapEnd, committedEnd) = MemoryAfterGcMiB();

        // The process tree just before dispose: a broker or worker that leaves it (reparented) is still found by its pid.
        var descendants = options.CountChildProcesses ? Descendants() : [];
        await runtime.DisposeAsync();
        var telemetryProblems = telemetry is null ? null : await telemetry.CheckAsync(calls.Select(c => c.Future).OfType<FluxFuture>());
        var orphans = OrphanProcesses([workingDirectory, .. fluxRunDirectory is null ? Array.Empty<string>() : [fluxRunDirectory]], options.CountChildProcesses, descendants);
        var leftovers = LeftoverFiles(workingDirectory, root, scratch, fluxRunDirectory);

        return new SoakReport
        {
            Backend = backend,
            Calls = options.Calls,
            CallsByFault = plan.GroupBy(f => f).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            Concurrency = concurrency,
            Elapsed = elapsed,
            Lost = lost,
            Wrong = wrong,
            Orphans = orphans,
            Leftovers = leftovers,
            TelemetryProblems = telemetryProblems,
            RssCheckpointCalls = checkpoint,
            RssAtCheckpointMiB = rssCheckpoint,
            RssAtEndMiB = rssEnd,
            HeapAtCheckpointMiB = heapCheckpoint,
            HeapAtEndMiB = heapEnd,
            CommittedAtCheckpointMiB = committedCheckpoint,
            CommittedAtEndMiB = committedEnd,
        };
    }

    private sealed record SoakCall(int Index, SoakFault Fault, Task Done, string Expected, FluxFuture? Future = null);

    private static SoakCall Call(int index, SoakFault fault, FluxFuture future, string expected) => new(index, fault, future.AsTask(), expected, future);

    /// <summary>Starts a call; a stub that throws instead of returning a future is an outcome too (a wrong one).</summary>
    private static SoakCall StartOrRecord(FluxAppsRuntime runtime, int index, SoakFault fault, int turn, SoakOptions options, Random random)
    {
        try
        {
            return Start(runtime, index, fault, turn, options, random);
        }
        catch (Exception ex)
        {
            return new SoakCall(index, fault, Task.FromException(ex), "a future (the stub threw)");
        }
    }

    /// <summary>
    /// Submits call <paramref name="index"/> and says what its outcome must be. Faults of one kind take
    /// their variants (exit codes, signals, ways to cancel) in turn, by <paramref name="turn"/>.
    /// </summary>
    private static SoakCall Start(FluxAppsRuntime runtime, int index, SoakFault fault, int turn, SoakOptions options, Random random)
    {
        var plain = new FluxCallOptions { Runtime = runtime };
        switch (fault)
        {
            case SoakFault.None when index % 2 == 0:
            {
                string text = "soak-" + random.Next().ToString(CultureInfo.InvariantCulture);
                return Call(index, fault, SoakApps.ChecksumAsync(index, text, plain), Value(SoakApps.Checksum(index, text)));
            }
            case SoakFault.None:
            {
                var item = new SoakItem(index, "item" + index, Enumerable.Range(0, index % 17).Select(v => v * 0.5 + index).ToArray());
                return Call(index, fault, SoakApps.DescribeAsync(item, plain), Value(SoakApps.Describe(item)));
            }
            case SoakFault.Throw:
                return Call(index, fault, SoakApps.ThrowAsync(index, plain), $"FluxAppException {typeof(InvalidOperationException).FullName}: {SoakApps.ThrowMessage(index)}");
            case SoakFault.Exit:
            {
                int code = options.ExitCodes[turn % options.ExitCodes.Count];
                return Call(index, fault, SoakApps.ExitAsync(code, plain), $"FluxJobException Exited code={code}");
            }
            case SoakFault.Signal:
            {
                int signal = options.Signals[turn % options.Signals.Count];
                return Call(index, fault, SoakApps.KillSelfAsync(signal, plain), $"FluxJobException Signaled signal={signal}");
            }
            case SoakFault.TimeLimit:
                return Call(index, fault, SoakApps.SleepAsync(LongSleepMs, new FluxCallOptions { Runtime = runtime, TimeLimit = TimeLimit }), "FluxJobException TimeLimit");
            case SoakFault.CancelBeforeRun:
                switch (turn % 3)
                {
                    case 0: // a token cancelled before the call: nothing is submitted
                        return Call(index, fault, SoakApps.SleepAsync(LongSleepMs, plain, new CancellationToken(canceled: true)), Cancelled);
                    case 1: // the token cancelled as soon as the call is submitted (queued while the cores are busy)
                    {
                        using var cts = new CancellationTokenSource();
                        var future = SoakApps.SleepAsync(LongSleepMs, plain, cts.Token);
                        cts.Cancel();
                        return Call(index, fault, future, Cancelled);
                    }
                    default: // the future cancelled as soon as it is submitted
                    {
                        var future = SoakApps.SleepAsync(LongSleepMs, plain);
                        future.Cancel();
                        return Call(index, fault, future, Cancelled);
                    }
                }
            case SoakFault.CancelWhileRunning:
            {
                var cts = new CancellationTokenSource();
                var future = SoakApps.SleepAsync(LongSleepMs, plain, cts.Token);
                int delayMs = 50 + random.Next(250);
                // Events before subscription are replayed, so a job that already started is not missed.
                future.JobEvent += (_, e) =>
                {
                    if (e.Name != "start") return;
                    try { cts.CancelAfter(delayMs); }
                    catch (ObjectDisposedException) { } // the call already completed
                };
                future.AsTask().ContinueWith(_ => cts.Dispose(), TaskScheduler.Default);
                return Call(index, fault, future, Cancelled);
            }
            case SoakFault.Unsatisfiable:
                return Call(index, fault, SoakApps.ChecksumAsync(index, "never", new FluxCallOptions { Runtime = runtime, Cpus = UnsatisfiableCpus }), "FluxJobException Rejected");
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private const string Cancelled = "OperationCanceledException";

    private static string Value(object? value) => "value " + value;

    /// <summary>An outcome in the same words as the expectations, with only what the expectation pins down.</summary>
    private static string Describe(Task task)
    {
        if (task.IsCanceled) return Cancelled;
        if (task.IsFaulted)
        {
            var ex = task.Exception!.InnerException!;
            return ex switch
            {
                FluxAppException app => $"FluxAppException {app.RemoteType}: {app.RemoteMessage}",
                FluxJobException { Kind: FluxJobFailureKind.Exited } job => $"FluxJobException Exited code={job.ExitCode}",
                FluxJobException { Kind: FluxJobFailureKind.Signaled } job => $"FluxJobException Signaled signal={job.Signal}",
                FluxJobException job => $"FluxJobException {job.Kind}" + (job.Kind is FluxJobFailureKind.TimeLimit or FluxJobFailureKind.Rejected ? "" : $": {FirstLine(job.Message)}"),
                OperationCanceledException => Cancelled,
                _ => $"{ex.GetType().FullName}: {FirstLine(ex.Message)}",
            };
        }
        object? result = task.GetType().GetProperty("Result")?.GetValue(task);
        return Value(result);
    }

    private static string FirstLine(string text)
    {
        int nl = text.IndexOf('\n');
        return nl < 0 ? text : text[..nl];
    }

    /// <summary>
    /// VmRSS of this process, the live managed heap and the memory the GC holds committed, in MiB,
    /// after an aggressive collection: free GC memory goes back to the OS first, so the figures show
    /// what the client retains rather than how much headroom the GC's budget kept at that moment.
    /// </summary>
    public static (double Rss, double Heap, double Committed) MemoryAfterGcMiB()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        double heap = GC.GetTotalMemory(forceFullCollection: false) / 1048576.0;
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        double committed = GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0;
        return (long.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0, heap, committed);
    }

    /// <summary>The broker's run directory of a local Flux URI (<c>local:///tmp/flux-X/local-0</c> gives <c>/tmp/flux-X</c>).</summary>
    private static string? FluxRunDirectory(string? uri) =>
        uri is not null && uri.StartsWith("local://", StringComparison.Ordinal) ? Path.GetDirectoryName(uri["local://".Length..]) : null;

    /// <summary>
    /// Processes still alive whose command line or environment names one of <paramref name="markers"/> (this run's
    /// working directory: every worker has its job directory in both; the Flux broker's run directory), and, when
    /// <paramref name="childrenToo"/>, every child of this process and every process of <paramref name="earlierDescendants"/>
    /// (pid and start time, from <see cref="Descendants"/>) still alive.
    /// </summary>
    public static List<string> OrphanProcesses(IReadOnlyList<string> markers, bool childrenToo, IReadOnlySet<(int Pid, string StartTime)>? earlierDescendants = null)
    {
        var found = new List<string>();
        int self = Environment.ProcessId;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == self) continue;
            string cmdline = ReadProcText(Path.Combine(dir, "cmdline"));
            string environ = ReadProcText(Path.Combine(dir, "environ"));
            string stat = ReadProcText(Path.Combine(dir, "stat"));
            bool marked = markers.Any(m => cmdline.Contains(m, StringComparison.Ordinal) || environ.Contains(m, StringComparison.Ordinal));
            bool child = childrenToo && (ParentOf(stat) == self || earlierDescendants?.Contains((pid, StartTimeOf(stat))) == true);
            if (marked || child)
                found.Add($"pid {pid} ({(marked ? "names this run" : "started under the soak")}, state {StateOf(stat)}): {(cmdline.Length > 0 ? cmdline : "[" + CommOf(stat) + "]")}");
        }
        return found;
    }

    /// <summary>Every process below this one now, as pid and start time (a pid alone may be reused).</summary>
    public static HashSet<(int Pid, string StartTime)> Descendants()
    {
        var children = new Dictionary<int, List<(int, string)>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string stat = ReadProcText(Path.Combine(dir, "stat"));
            int parent = ParentOf(stat);
            if (parent <= 0) continue;
            if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
            list.Add((pid, StartTimeOf(stat)));
        }
        var found = new HashSet<(int, string)>();
        var pending = new Stack<int>([Environment.ProcessId]);
        while (pending.TryPop(out int pid))
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
                if (found.Add(child)) pending.Push(child.Item1);
        return found;
    }

    private static string ReadProcText(string path)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(path)).Replace('\0', ' ').Trim();
        }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so parse after the last ')'.
    private static string[] AfterComm(string stat) => stat.LastIndexOf(')') is int close and >= 0 ? stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];

    private static int ParentOf(string stat) => AfterComm(stat) is [_, var ppid, ..] && int.TryParse(ppid, out int p) ? p : -1;

    private static string StartTimeOf(string stat) => AfterComm(stat) is { Length: > 19 } fields ? fields[19] : "";

    private static string StateOf(string stat) => AfterComm(stat) is [var state, ..] ? state : "?";

    private static string CommOf(string stat) => stat.IndexOf('(') is int open and >= 0 && stat.LastIndexOf(')') is int close && close > open ? stat[(open + 1)..close] : "?";

    /// <summary>The local backend's memory-backed run directories of this process (<c>fluxapps-TIME-PID-ID</c> in $XDG_RUNTIME_DIR and /dev/shm).</summary>
    private static IEnumerable<string> MemoryRunDirectories()
    {
        string marker = $"-{Environment.ProcessId}-";
        foreach (string? parent in new[] { Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), "/dev/shm" })
        {
            if (string.IsNullOrEmpty(parent) || !Directory.Exists(parent)) continue;
            foreach (string dir in Directory.EnumerateFileSystemEntries(parent, "fluxapps-*"))
                if (Path.GetFileName(dir).Contains(marker, StringComparison.Ordinal)) yield return dir;
        }
    }

    /// <summary>
    /// What the run left on disk after dispose: the runtime's working directory and what is in it; with an explicit
    /// root, anything in that root; this process's new memory-backed run directories; the private Flux instance's
    /// run directory and broker log.
    /// </summary>
    public static List<string> LeftoverFiles(string workingDirectory, string? root, IReadOnlySet<string> scratchBefore, string? fluxRunDirectory)
    {
        var left = new SortedSet<string>(StringComparer.Ordinal);
        void AddTree(string path)
        {
            if (File.Exists(path)) left.Add(path);
            else if (Directory.Exists(path))
            {
                left.Add(path + "/");
                foreach (string entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories)) left.Add(entry);
            }
        }
        AddTree(workingDirectory);
        if (root is not null && Directory.Exists(root))
            foreach (string entry in Directory.EnumerateFileSystemEntries(root)) AddTree(entry);
        foreach (string dir in MemoryRunDirectories())
            if (!scratchBefore.Contains(dir)) AddTree(dir);
        if (fluxRunDirectory is null) return left.ToList();
        AddTree(fluxRunDirectory);
        string tmp = Path.GetTempPath().TrimEnd('/');
        foreach (string parent in new[] { tmp, "/tmp" }.Distinct())
        {
            if (!Directory.Exists(parent)) continue;
            foreach (string log in Directory.EnumerateFiles(parent, $"fluxapps-broker-{Environment.ProcessId}-*.log")) left.Add(log);
        }
        return left.ToList();
    }
}
