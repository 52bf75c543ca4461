using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using FluxApps;
using FluxApps.Benchmarks;

// dotnet run -c Release --project tests/FluxApps.Benchmarks -- <mode> [options]
//   inprocess            in-process cost of one call (BenchmarkDotNet: ns and bytes allocated)
//   throughput [N] [P]   N trivial apps on the local backend vs N plain .NET processes, P at a time
//   startup [K]          worker start vs bare .NET runtime start, K runs each
//   pending [N]          N calls pending at once: threads, client memory, all complete
//   flux [N]             N trivial apps on the Flux backend vs flux submit --cc=1-N --wait of a plain process
//   aot [N] [P] [K]      NativeAOT (tests/FluxApps.Benchmarks.AotApp): worker start and N apps, P at a time, against plain AOT processes
//   pool [--backend local|flux] [--apps N] [--pending M] [--per-job K]
//                        N trivial pooled apps (apps/s), a warm pool's round trip, M pooled calls pending at once,
//                        beside K trivial apps as jobs of their own in the same run
//   telemetry [N]        N trivial pooled apps with nobody listening, with traces, metrics and Debug logs all taken, and quiet again
//   fuzz [S] [SEED]      mutated payloads against the payload readers for S seconds (default 60); exit 1 on a crash
//   soak [--backend local|flux] [--calls N] [--faults F] [--seed S] [--concurrency K] [--exit-codes 3,130] [--kinds Throw,Exit,...] [--telemetry]
//                        N calls, a fraction F failing on purpose in every way a call can fail; prints lost futures,
//                        wrong outcomes, orphan processes, leftover files and client RSS; exits 1 unless the first four are 0;
//                        with --telemetry also reads the event stream, activities and metrics and checks each call's story
string mode = args.Length > 0 ? args[0] : "help";
int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

switch (mode)
{
    case "inprocess":
        BenchmarkRunner.Run<CallBenchmarks>(args: args.Skip(1).ToArray());
        break;
    case "throughput":
        await Throughput.RunAsync(apps: Arg(1, 200), parallel: Arg(2, Environment.ProcessorCount));
        break;
    case "startup":
        await Startup.RunAsync(runs: Arg(1, 20));
        break;
    case "flux":
        await FluxThroughput.RunAsync(apps: Arg(1, 200));
        break;
    case "pending":
        await Pending.RunAsync(calls: Arg(1, 10_000));
        break;
    case "aot": await Aot.RunAsync(args[1..]); break;
    case "pool":
        return await PoolBenchmark.RunAsync(args[1..]);
    case "fuzz":
        return Fuzz.Run(seconds: Arg(1, 60), seed: Arg(2, Environment.TickCount & int.MaxValue));
    case "soak":
        return await SoakCommand.RunAsync(args[1..]);
    case "telemetry":
        return await TelemetryBenchmark.RunAsync(args[1..]);
    default:
        Console.WriteLine("modes: inprocess | throughput [apps] [parallel] | startup [runs] | pending [calls] | flux [apps] | pool [--backend local|flux] [--apps N] [--pending M] | aot [apps] [parallel] [runs] [--no-publish] | " +
                          "telemetry [apps] | fuzz [seconds] [seed] | soak [--backend local|flux] [--calls N] [--faults F] [--seed S] [--concurrency K] [--exit-codes 3,130] [--kinds Throw,Exit,...] [--telemetry]");
        break;
}
return 0;

/// <summary>The floor program (a plain .NET process that reads and writes a small file), built beside this one.</summary>
internal static class Floor
{
    public static string Dll
    {
        get
        {
            string here = AppContext.BaseDirectory; // tests/FluxApps.Benchmarks/bin/<cfg>/net10.0/
            string config = new DirectoryInfo(here).Parent!.Name;
            string path = Path.GetFullPath(Path.Combine(here, "..", "..", "..", "..", "FluxApps.Benchmarks.Floor", "bin", config, "net10.0", "FluxApps.Benchmarks.Floor.dll"));
            if (!File.Exists(path)) throw new FileNotFoundException("Build tests/FluxApps.Benchmarks.Floor first", path);
            return path;
        }
    }

    /// <summary>Runs the floor program <paramref name="count"/> times, <paramref name="parallel"/> at a time; returns the wall time.</summary>
    public static Task<TimeSpan> RunAsync(int count, int parallel, string directory) => RunAsync([FindDotnet(), Dll], count, parallel, directory);

    /// <summary>
    /// Runs <paramref name="program"/> (the program and its leading arguments) <paramref name="count"/> times,
    /// <paramref name="parallel"/> at a time, each reading a small file and writing one in <paramref name="directory"/>; returns the wall time.
    /// </summary>
    public static async Task<TimeSpan> RunAsync(IReadOnlyList<string> program, int count, int parallel, string directory)
    {
        string input = Path.Combine(directory, "floor-in.bin");
        File.WriteAllBytes(input, new byte[64]);
        using var gate = new SemaphoreSlim(parallel);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var psi = new ProcessStartInfo(program[0]) { UseShellExecute = false };
                foreach (string a in program.Skip(1)) psi.ArgumentList.Add(a);
                psi.ArgumentList.Add(input);
                psi.ArgumentList.Add(Path.Combine(directory, $"floor-out-{i}.bin"));
                using var p = Process.Start(psi)!;
                await p.WaitForExitAsync();
                if (p.ExitCode != 0) throw new InvalidOperationException("floor process failed");
            }
            finally
            {
                gate.Release();
            }
        }));
        var elapsed = clock.Elapsed;
        foreach (string f in Directory.GetFiles(directory, "floor-*")) File.Delete(f);
        return elapsed;
    }

    /// <summary>Milliseconds from starting <paramref name="program"/> to its exit; throws if it fails.</summary>
    public static double Time(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        double ms = clock.Elapsed.TotalMilliseconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} exited {p.ExitCode}");
        return ms;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string FindDotnet() => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
        ? p
        : Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", "..", "dotnet");
}

internal static class Throughput
{
    public static async Task RunAsync(int apps, int parallel)
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-bench-").FullName;
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = parallel, WorkingDirectory = dir });
        var options = new FluxCallOptions { Runtime = runtime };
        Console.WriteLine($"throughput: {apps} trivial apps, {parallel} at a time, {runtime.BackendDescription}, {Environment.ProcessorCount} CPUs");
        await Task.WhenAll(Enumerable.Range(0, parallel * 2).Select(i => BenchApps.NopAsync(i, options).AsTask())); // warm-up
        await Floor.RunAsync(parallel * 2, parallel, dir);

        TimeSpan bestApps = TimeSpan.MaxValue, bestFloor = TimeSpan.MaxValue;
        for (int round = 1; round <= 3; round++)
        {
            var floor = await Floor.RunAsync(apps, parallel, dir);
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, apps).Select(i => BenchApps.NopAsync(i, options).AsTask()));
            var elapsed = clock.Elapsed;
            if (!results.SequenceEqual(Enumerable.Range(0, apps))) throw new InvalidOperationException("wrong results");
            Console.WriteLine($"  round {round}: apps {elapsed.TotalSeconds:F2} s ({apps / elapsed.TotalSeconds:F0}/s), floor {floor.TotalSeconds:F2} s ({apps / floor.TotalSeconds:F0}/s), ratio {elapsed / floor:F3}");
            bestApps = elapsed < bestApps ? elapsed : bestApps;
            bestFloor = floor < bestFloor ? floor : bestFloor;
        }
        Console.WriteLine($"RESULT local throughput: {apps} apps in {bestApps.TotalSeconds:F2} s = {apps / bestApps.TotalSeconds:F1} apps/s; " +
                          $"floor ({apps} plain .NET processes, {parallel} at a time) {bestFloor.TotalSeconds:F2} s; ratio {bestApps / bestFloor:F3}");
        Directory.Delete(dir, true);
    }
}

internal static class Startup
{
    public static async Task RunAsync(int runs)
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-bench-").FullName;
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = dir });
        await BenchApps.NopAsync(1, new FluxCallOptions { Runtime = runtime, KeepFiles = true });
        string jobDir = Directory.GetDirectories(runtime.WorkingDirectory).Single();
        var command = runtime.WorkerCommandLine(jobDir);

        var workerEnvironment = new Dictionary<string, string> { ["FLUX_TASK_RANK"] = "0" };
        var bare = new List<double>();
        var worker = new List<double>();
        for (int i = 0; i < runs + 2; i++)
        {
            bare.Add(Floor.Time(Floor.FindDotnet(), [Floor.Dll], null));
            worker.Add(Floor.Time(command[0], command.Skip(1), workerEnvironment));
        }
        // Drop the first runs (disk cache) and take medians.
        double bareMs = Floor.Median(bare.Skip(2)), workerMs = Floor.Median(worker.Skip(2));
        if (Environment.GetEnvironmentVariable("FLUXAPPS_BENCH_KEEP") is { Length: > 0 } keep)
        {
            // A copy of the call's directory outlives the runtime, to time the worker by hand.
            Directory.CreateDirectory(keep);
            foreach (string f in Directory.GetFiles(jobDir)) File.Copy(f, Path.Combine(keep, Path.GetFileName(f)), true);
        }
        Console.WriteLine($"  worker: {string.Join(' ', command)}");
        Console.WriteLine($"RESULT worker start (JIT): worker {workerMs:F1} ms, bare runtime start {bareMs:F1} ms, " +
                          $"worker adds {workerMs - bareMs:F1} ms (ratio {workerMs / bareMs:F3}), median of {runs}");
        Directory.Delete(dir, true);
    }

}

internal static class Pending
{
    public static async Task RunAsync(int calls)
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-bench-").FullName;
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = dir });
        var options = new FluxCallOptions { Runtime = runtime };
        var self = Process.GetCurrentProcess();
        int threadsBefore = self.Threads.Count;
        long rssBefore = self.WorkingSet64;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var futures = Enumerable.Range(0, calls).Select(i => BenchApps.NopAsync(i, options)).ToList();
        long allocatedSubmitted = GC.GetTotalAllocatedBytes(precise: true);
        Console.WriteLine($"pending: {calls} calls submitted in {clock.Elapsed.TotalSeconds:F2} s; {runtime.PendingCount} pending; " +
                          $"{(allocatedSubmitted - allocatedBefore) / calls} B allocated per submission; RSS {rssBefore / 1048576} MiB before, {Process.GetCurrentProcess().WorkingSet64 / 1048576} MiB after");
        var all = Task.WhenAll(futures.Select(f => f.AsTask()));
        int maxThreads = 0;
        while (!all.IsCompleted)
        {
            self.Refresh();
            maxThreads = Math.Max(maxThreads, self.Threads.Count);
            await Task.WhenAny(all, Task.Delay(1000));
            Console.Write($"\r  {futures.Count(f => f.IsCompleted)}/{calls} done, {self.Threads.Count} threads, RSS {self.WorkingSet64 / 1048576} MiB   ");
        }
        var results = await all;
        long allocatedEnd = GC.GetTotalAllocatedBytes(precise: true);
        Console.WriteLine();
        Console.WriteLine($"  {(allocatedEnd - allocatedSubmitted) / calls} B allocated per completion (backend, worker start, result; includes this monitor); " +
                          $"GCs gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}");
        if (!results.SequenceEqual(Enumerable.Range(0, calls))) throw new InvalidOperationException("wrong results");
        long peakRss = PeakRssKiB();
        Console.WriteLine($"RESULT pending: {calls} calls all completed in {clock.Elapsed.TotalSeconds:F1} s; " +
                          $"peak client RSS {peakRss / 1024.0:F1} MiB; threads {threadsBefore} before, at most {maxThreads} while {calls} were pending");
        Directory.Delete(dir, true);
    }

    private static long PeakRssKiB() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:")).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
