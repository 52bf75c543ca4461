using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluxApps;

// What the NativeAOT benchmark (tests/FluxApps.Benchmarks, mode `aot`) runs, published NativeAOT:
//   throughput [apps] [parallel]   that many trivial apps on the local backend, `parallel` at a time; prints the rate
//   keep-one                       one app with its job directory kept; prints the directory and the worker's command line
switch (args.Length > 0 ? args[0] : "")
{
    case "throughput":
        int apps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        int parallel = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        await AotApps.ThroughputAsync(apps, parallel);
        return 0;
    case "keep-one":
        await AotApps.KeepOneAsync();
        return 0;
    default:
        Console.Error.WriteLine("usage: FluxApps.Benchmarks.AotApp throughput [apps] [parallel] | keep-one");
        return 2;
}

public static partial class AotApps
{
    /// <summary>The trivial app: one int in, the same int out.</summary>
    [FluxApp]
    public static int Echo(int x) => x;

    public static async Task ThroughputAsync(int apps, int parallel)
    {
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = parallel });
        var options = new FluxCallOptions { Runtime = runtime };
        await Task.WhenAll(Enumerable.Range(0, parallel * 2).Select(i => EchoAsync(i, options).AsTask())); // warm-up
        var clock = Stopwatch.StartNew();
        int[] results = await Task.WhenAll(Enumerable.Range(0, apps).Select(i => EchoAsync(i, options).AsTask()));
        var elapsed = clock.Elapsed;
        if (!results.SequenceEqual(Enumerable.Range(0, apps))) throw new InvalidOperationException("wrong results");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {apps} apps in {elapsed.TotalSeconds:F4} s = {apps / elapsed.TotalSeconds:F1} apps/s, {parallel} at a time on {runtime.BackendDescription}"));
    }

    public static async Task KeepOneAsync()
    {
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, KeepJobFiles = true });
        int echoed = await EchoAsync(42, new FluxCallOptions { Runtime = runtime });
        if (echoed != 42) throw new InvalidOperationException("wrong result");
        string jobDir = Directory.GetDirectories(runtime.WorkingDirectory).Single();
        Console.WriteLine("job directory: " + jobDir);
        Console.WriteLine("worker command: " + string.Join('\t', runtime.WorkerCommandLine(jobDir)));
    }
}
