using System.Diagnostics;
using FluxApps;

namespace FluxApps.Benchmarks;

/// <summary>
/// Pools against jobs of their own, in one run on one backend: N trivial pooled apps (apps/s), the median round
/// trip of one trivial call in a warm pool, and a burst of many pooled calls pending at once (all complete; peak
/// client RSS), printed beside 200 trivial apps as jobs of their own (the per-job figure).
/// </summary>
internal static class PoolBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        string backend = Option(args, "--backend", "local");
        int apps = int.Parse(Option(args, "--apps", "20000"));
        int pending = int.Parse(Option(args, "--pending", "100000"));
        int perJob = int.Parse(Option(args, "--per-job", "200"));
        string dir = Directory.CreateTempSubdirectory("fluxapps-bench-").FullName;
        var options = new FluxAppsOptions
        {
            Backend = backend == "flux" ? FluxBackend.Flux : FluxBackend.Local,
            WorkingDirectory = dir,
            // Flux: a private instance of two brokers, as a two-node allocation would have.
            FluxLaunchCommand = backend == "flux" ? "{flux} start --test-size=2 {program}" : null,
        };
        await using var runtime = await FluxAppsRuntime.StartAsync(options);
        var pooled = new FluxCallOptions { Runtime = runtime, Pool = "bench" };
        var own = new FluxCallOptions { Runtime = runtime };
        Console.WriteLine($"pool benchmark on {runtime.BackendDescription}");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => BenchApps.NopAsync(i, own).AsTask()));
        var clock = Stopwatch.StartNew();
        await Check(Enumerable.Range(0, perJob).Select(i => BenchApps.NopAsync(i, own).AsTask()), perJob);
        double perJobRate = perJob / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"  per-job: {perJob} trivial apps as jobs of their own in {clock.Elapsed.TotalSeconds:F2} s = {perJobRate:F1} apps/s");

        // Warm the pool up to its full size, then measure.
        await Check(Enumerable.Range(0, 2000).Select(i => BenchApps.NopAsync(i, pooled).AsTask()), 2000);
        double bestRate = 0;
        for (int round = 1; round <= 3; round++)
        {
            clock.Restart();
            await Check(Enumerable.Range(0, apps).Select(i => BenchApps.NopAsync(i, pooled).AsTask()), apps);
            double rate = apps / clock.Elapsed.TotalSeconds;
            bestRate = Math.Max(bestRate, rate);
            Console.WriteLine($"  pool round {round}: {apps} trivial apps in {clock.Elapsed.TotalSeconds:F2} s = {rate:F0} apps/s");
        }

        var trips = new double[2000];
        for (int i = 0; i < trips.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            if (await BenchApps.NopAsync(i, pooled) != i) throw new InvalidOperationException("wrong result");
            trips[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(trips);
        double median = trips[trips.Length / 2], p99 = trips[trips.Length * 99 / 100];

        long rssBefore = Rss();
        long peak = rssBefore;
        using var sampler = new Timer(_ => Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), Rss())), null, 0, 20);
        clock.Restart();
        var burst = new Task<int>[pending];
        for (int i = 0; i < pending; i++) burst[i] = BenchApps.NopAsync(i, pooled).AsTask();
        long rssQueued = Rss();
        await Check(burst, pending);
        var burstTime = clock.Elapsed;
        peak = Math.Max(peak, rssQueued);

        Console.WriteLine($"RESULT pool {backend}: {apps} trivial apps at {bestRate:F0} apps/s (best of 3); per-job floor in the same run {perJobRate:F1} apps/s ({bestRate / perJobRate:F0}x)");
        Console.WriteLine($"RESULT pool {backend}: round trip of one trivial call in a warm pool: median {median:F3} ms, p99 {p99:F3} ms");
        Console.WriteLine($"RESULT pool {backend}: {pending} pooled calls pending at once: all complete in {burstTime.TotalSeconds:F1} s; client RSS {rssBefore >> 20} MiB before, peak {peak >> 20} MiB");
        return 0;
    }

    private static async Task Check(IEnumerable<Task<int>> calls, int count)
    {
        int[] results = await Task.WhenAll(calls);
        if (results.Length != count) throw new InvalidOperationException("lost calls");
        for (int i = 0; i < count; i++)
            if (results[i] != i) throw new InvalidOperationException($"call {i} returned {results[i]}");
    }

    private static long Rss()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
