using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluxApps;

/// <summary>
/// Measurement modes of the sample, for timing the worker path (used by the NativeAOT benchmark,
/// <c>dotnet run -c Release --project tests/FluxApps.Benchmarks -- aot</c>):
/// <c>QuickStart throughput [apps] [parallel]</c> runs that many trivial apps on the local backend;
/// <c>QuickStart keep-one</c> runs one and keeps its job directory, printing the worker's command line.
/// </summary>
public static partial class Throughput
{
    /// <summary>The trivial app: one int in, the same int out.</summary>
    [FluxApp]
    public static int Echo(int x) => x;

    /// <summary>Runs a measurement mode named by <paramref name="args"/>[0]; false when it names none.</summary>
    public static async Task<bool> TryRunAsync(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "throughput":
                int apps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
                int parallel = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
                await RunAsync(apps, parallel);
                return true;
            case "keep-one":
                await KeepOneAsync();
                return true;
            default:
                return false;
        }
    }

    private static async Task RunAsync(int apps, int parallel)
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

    private static async Task KeepOneAsync()
    {
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, KeepJobFiles = true });
        int echoed = await EchoAsync(42, new FluxCallOptions { Runtime = runtime });
        if (echoed != 42) throw new InvalidOperationException("wrong result");
        string jobDir = Directory.GetDirectories(runtime.WorkingDirectory).Single();
        Console.WriteLine("job directory: " + jobDir);
        Console.WriteLine("worker command: " + string.Join('\t', runtime.WorkerCommandLine(jobDir)));
    }
}
