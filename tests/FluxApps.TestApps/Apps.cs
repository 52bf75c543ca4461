using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.TestApps;

public static partial class Library
{
    [FluxApp]
    public static int Add(int a, int b) => a + b;

    [FluxApp]
    public static Stats Summarize(double[] values) =>
        new(values.Length, values.Length == 0 ? 0 : values.Average(), values.DefaultIfEmpty().Min(), values.DefaultIfEmpty().Max());

    [FluxApp]
    public static Measurement Echo(Measurement m) => m;

    [FluxApp]
    public static Grid EchoGrid(Grid g) => g;

    [FluxApp]
    public static Particle EchoParticle(Particle p) => p;

    [FluxApp]
    public static (int Count, string? Text, Point Where) EchoTuple(int count, string? text, Point where) => (count, text, where);

    [FluxApp]
    public static Dictionary<string, List<int>> Group(List<int> numbers, IEnumerable<string> names) =>
        names.ToDictionary(n => n, n => numbers.Where(x => x % n.Length == 0).ToList());

    [FluxApp]
    public static string? NullableText(string? text, int? number, Phase? phase) => text is null ? null : $"{text}:{number?.ToString() ?? "none"}:{phase?.ToString() ?? "none"}";

    [FluxApp]
    public static byte[] Reverse(byte[] data) => data.Reverse().ToArray();

    [FluxApp]
    public static void WriteMarker(string path, string content) => File.WriteAllText(path, content);

    [FluxApp]
    public static async Task WriteMarkerLaterAsync(string path, string content)
    {
        await Task.Delay(10);
        await File.WriteAllTextAsync(path, content);
    }

    [FluxApp]
    public static async Task<long> SumLater(long[] values)
    {
        await Task.Yield();
        return values.Sum();
    }

    [FluxApp]
    public static ValueTask<string> Shout(string text = "hello") => new(text.ToUpperInvariant());

    [FluxApp]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    [FluxApp]
    public static int ExitWith(int code)
    {
        Console.Error.WriteLine($"about to exit with {code}");
        Environment.Exit(code);
        return 0;
    }

    [FluxApp]
    public static int Crash()
    {
        Console.Error.WriteLine("about to crash");
        Environment.FailFast("deliberate crash");
        return 0;
    }

    /// <summary>Sends itself <paramref name="signal"/> (a real signal, not an exit code).</summary>
    [FluxApp]
    public static int SignalSelf(int signal)
    {
        Console.Error.WriteLine($"about to send myself signal {signal}");
        Console.Error.Flush();
        LibC.kill(Environment.ProcessId, signal);
        Thread.Sleep(30_000);
        return 0;
    }

    /// <summary>Writes its process id to <paramref name="pidFile"/>, then sleeps.</summary>
    [FluxApp]
    public static int WritePidThenSleep(string pidFile, int milliseconds)
    {
        File.WriteAllText(pidFile + ".tmp", Environment.ProcessId.ToString());
        File.Move(pidFile + ".tmp", pidFile);
        Thread.Sleep(milliseconds);
        return milliseconds;
    }

    [FluxApp]
    public static int Sleep(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return milliseconds;
    }

    [FluxApp(TimeLimit = "1s")]
    public static int SleepPastLimit(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return milliseconds;
    }

    [FluxApp(Cpus = 100000)]
    public static int Huge() => 0;

    /// <summary>What a rank sees of its job: context, environment, pinned cores.</summary>
    [FluxApp(MpiRanks = 2)]
    public static RankInfo WhoAmI(string variable) => RankInfo.Current(variable);

    [FluxApp(MpiRanks = 3)]
    public static int FailOnRank(int failingRank)
    {
        if (FluxAppContext.Current.Rank == failingRank) throw new ArgumentException($"rank {failingRank} refuses");
        Thread.Sleep(30_000); // the others would wait for it, as MPI ranks do
        return 0;
    }

    [FluxApp(Gpus = 1)]
    public static string VisibleGpus() => Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") ?? "(unset)";

    [FluxApp]
    public static string CurrentDirectory() => Environment.CurrentDirectory;

    /// <summary>Records the interval an app ran in (for scheduling tests).</summary>
    [FluxApp]
    public static Interval Hold(int milliseconds)
    {
        var start = DateTime.UtcNow;
        Thread.Sleep(milliseconds);
        return new Interval(start, DateTime.UtcNow, RankInfo.Current("").Cores);
    }
}

public record Interval(DateTime Start, DateTime End, string Cores);

public record RankInfo(int Rank, int Size, int LocalRank, string JobId, string? Variable, string Cores, int ProcessorCount, int ProcessId)
{
    public static RankInfo Current(string variable)
    {
        var c = FluxAppContext.Current;
        string cores = "";
        if (File.Exists("/proc/self/status"))
            cores = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:"))?.Split(':')[1].Trim() ?? "";
        return new RankInfo(c.Rank, c.Size, c.LocalRank, c.JobId.ToString(), Environment.GetEnvironmentVariable(variable), cores,
            Environment.ProcessorCount, Environment.ProcessId);
    }
}

/// <summary>Apps in nested partial types.</summary>
public static partial class Outer
{
    public partial class Middle
    {
        internal static partial class Inner
        {
            [FluxApp]
            internal static string Where(string text) => $"{nameof(Outer)}.{nameof(Middle)}.{nameof(Inner)}:{text}";
        }
    }
}

public static partial class RankApps
{
    /// <summary>Each rank leaves a file named after its rank, holding what it saw; rank 0's value is the result.</summary>
    [FluxApp(MpiRanks = 2)]
    public static int WriteRankFile(string directory)
    {
        var c = FluxAppContext.Current;
        File.WriteAllText(Path.Combine(directory, $"rank-{c.Rank}"),
            $"{c.Rank}/{c.Size} local {c.LocalRank} task {Environment.GetEnvironmentVariable("FLUX_TASK_RANK")} job {c.JobId}");
        return c.Rank;
    }
}

/// <summary>Command apps: the method builds a command line; the job's ranks run the program itself.</summary>
public static partial class CommandApps
{
    /// <summary>Every rank prints its rank, the job size and the text.</summary>
    [FluxApp(MpiRanks = 2)]
    public static FluxCommand Greet(string text) =>
        new("/bin/sh", "-c", "echo \"rank $FLUX_TASK_RANK of $FLUX_JOB_SIZE: $0 $GREETING\"", text)
        {
            Environment = new Dictionary<string, string?> { ["GREETING"] = "hello" },
        };

    /// <summary>Exits with the given code after writing to stderr.</summary>
    [FluxApp]
    public static FluxCommand ExitWith(int code) => new("/bin/sh", "-c", "echo failing >&2; exit $0", code.ToString());

    /// <summary>Writes its process id to <paramref name="pidFile"/>, then becomes <c>sleep</c> (same process).</summary>
    [FluxApp]
    public static FluxCommand WritePidThenSleep(string pidFile, int seconds) =>
        new("/bin/sh", "-c", "echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; exec sleep \"$1\"", pidFile, seconds.ToString());

    /// <summary>Sleeps (for cancellation).</summary>
    [FluxApp]
    public static FluxCommand Sleep(int seconds) => new("sleep", seconds.ToString());

    /// <summary>Prints the signal lines of its /proc status: blocked, ignored.</summary>
    [FluxApp]
    public static FluxCommand SignalState() => new("grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status");

    /// <summary>Writes to files the caller names.</summary>
    [FluxApp]
    public static FluxCommand EchoTo(string text, string stdout) => new("echo", text) { StdoutPath = stdout, StderrPath = stdout + ".err" };
}

internal static class LibC
{
    [System.Runtime.InteropServices.DllImport("libc")]
    public static extern int kill(int pid, int signal);
}

/// <summary>Apps that fail on their first attempts (retries) or count their runs (checkpoints), through a counter file.</summary>
public static partial class RetryApps
{
    /// <summary>
    /// Counts its runs in <paramref name="counterFile"/>; fails (<paramref name="how"/>: "exit" exits with 3,
    /// "kill" kills itself with SIGKILL, "throw" throws) on the first <paramref name="failures"/> runs, then returns its run number.
    /// </summary>
    [FluxApp(Retries = 3)]
    public static int FailTimes(string counterFile, int failures, string how)
    {
        int run = Counter.Increment(counterFile);
        if (run <= failures)
        {
            Console.Error.WriteLine($"run {run}: failing by {how}");
            switch (how)
            {
                case "exit": Environment.Exit(3); break;
                case "kill": System.Diagnostics.Process.GetCurrentProcess().Kill(); Thread.Sleep(Timeout.Infinite); break;
                default: throw new InvalidOperationException($"run {run} fails");
            }
        }
        return run;
    }

    /// <summary>The same with the attribute's defaults (no retries), for per-call Retries.</summary>
    [FluxApp]
    public static int FailTimesNoRetries(string counterFile, int failures, string how) => FailTimes(counterFile, failures, how);

    /// <summary>Throws on its first runs; retried on app exceptions.</summary>
    [FluxApp(Retries = 2, RetryOnAppException = true)]
    public static int ThrowTimes(string counterFile, int failures) => FailTimes(counterFile, failures, "throw");

    /// <summary>Sleeps past its 1 s limit, counting runs.</summary>
    [FluxApp(Retries = 2, TimeLimit = "1s")]
    public static int SleepPastLimitCounted(string counterFile)
    {
        Counter.Increment(counterFile);
        Thread.Sleep(30_000);
        return 0;
    }

    /// <summary>Its first run sleeps a minute (to be killed from outside); later runs return their run number at once.</summary>
    [FluxApp(Retries = 2)]
    public static int SlowFirstTime(string counterFile)
    {
        int run = Counter.Increment(counterFile);
        if (run == 1) Thread.Sleep(60_000);
        return run;
    }

    /// <summary>Can never fit, with retries: rejected once.</summary>
    [FluxApp(Retries = 2, Cpus = 100000)]
    public static int HugeWithRetries() => 0;
}

/// <summary>A run counter in a file: one line appended per run.</summary>
public static class Counter
{
    private static readonly byte[] s_line = "run\n"u8.ToArray();

    /// <summary>Counts a run; returns its number.</summary>
    public static int Increment(string path)
    {
        // FileMode.Append writes at the end .NET saw on opening, not with O_APPEND (dotnet/runtime#53432): two runs
        // appending at once could write the same offset and count as one. An exclusive open (flock) orders them.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None);
                stream.Write(s_line);
                return (int)(stream.Length / s_line.Length);
            }
            catch (IOException) when (attempt < 2000)
            {
                Thread.Sleep(5); // another run holds it for a few microseconds
            }
        }
    }

    public static int Read(string path) => File.Exists(path) ? File.ReadAllLines(path).Length : 0;
}

/// <summary>Cached apps that count their runs, so a test can tell a stored result from a computed one.</summary>
public static partial class CachedApps
{
    /// <summary>Counts a run in <paramref name="counterFile"/>, sleeps <paramref name="milliseconds"/>, returns x².</summary>
    [FluxApp(Cache = true)]
    public static long Square(string counterFile, long x, int milliseconds)
    {
        Counter.Increment(counterFile);
        if (milliseconds > 0) Thread.Sleep(milliseconds);
        return x * x;
    }

    /// <summary>A record result, cached.</summary>
    [FluxApp(Cache = true)]
    public static Stats Describe(string counterFile, double[] values)
    {
        Counter.Increment(counterFile);
        return new(values.Length, values.Average(), values.Min(), values.Max());
    }

    /// <summary>No result to keep, cached all the same: a second call does not run it.</summary>
    [FluxApp(Cache = true)]
    public static void Touch(string counterFile) => Counter.Increment(counterFile);

    /// <summary>Throws: exceptions are never stored.</summary>
    [FluxApp(Cache = true)]
    public static int Fails(string counterFile)
    {
        Counter.Increment(counterFile);
        throw new InvalidOperationException("never stored");
    }

    /// <summary>Not cached by its attribute (per-call Cache turns it on).</summary>
    [FluxApp]
    public static long Plain(string counterFile, long x)
    {
        Counter.Increment(counterFile);
        return x + 1;
    }

    /// <summary>A command app: cannot be cached.</summary>
    [FluxApp]
    public static FluxCommand Echo(string text) => new("echo", text);
}

/// <summary>Apps whose attribute names a pool.</summary>
public static partial class PoolApps
{
    [FluxApp(Pool = "attribute-pool")]
    public static int PooledAdd(int a, int b) => a + b;
}
