using System.Diagnostics;
using System.Diagnostics.Metrics;
using FluxApps;
using Microsoft.Extensions.Logging;

namespace FluxApps.Benchmarks;

/// <summary>
/// What telemetry costs the client: N trivial pooled apps on the local backend (the fastest path, where per-call costs
/// show most), with nobody listening, then with an activity listener, a meter listener and a Debug logger taking
/// everything, then with nobody listening again. Prints apps/s and client bytes allocated per call for each, and the
/// ratios against the first quiet round.
/// </summary>
internal static class TelemetryBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int apps = args.Length > 0 ? int.Parse(args[0]) : 20_000;
        var sink = new CountingLoggerFactory();
        string dir = Directory.CreateTempSubdirectory("fluxapps-bench-").FullName;
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Local,
            WorkingDirectory = dir,
            LoggerFactory = sink,
        });
        var pooled = new FluxCallOptions { Runtime = runtime, Pool = "bench" };
        Console.WriteLine($"telemetry benchmark on {runtime.BackendDescription}: {apps} trivial pooled apps a round");
        await Round(apps, pooled); // warm the pool and the JIT

        var (quietRate, quietBytes) = await Best(apps, pooled);
        Console.WriteLine($"  nobody listening:      {quietRate,8:F0} apps/s, {quietBytes,6:F0} B/call");

        long activities = 0, measurements = 0;
        using (var activityListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == FluxAppsTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ => Interlocked.Increment(ref activities),
        })
        using (var meterListener = new MeterListener())
        {
            ActivitySource.AddActivityListener(activityListener);
            meterListener.InstrumentPublished = (i, l) => { if (i.Meter.Name == FluxAppsTelemetry.MeterName) l.EnableMeasurementEvents(i); };
            meterListener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measurements));
            meterListener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
            meterListener.Start();
            sink.Level = LogLevel.Debug;
            var (loudRate, loudBytes) = await Best(apps, pooled);
            sink.Level = LogLevel.None;
            Console.WriteLine($"  traces+metrics+Debug:  {loudRate,8:F0} apps/s, {loudBytes,6:F0} B/call ({activities} activities, {measurements} measurements, {sink.Entries} log entries)");
            Console.WriteLine($"RESULT telemetry: everything listening runs at {loudRate / quietRate:F2}x the quiet rate, {loudBytes / quietBytes:F2}x its allocations");
        }
        var (againRate, againBytes) = await Best(apps, pooled);
        Console.WriteLine($"  nobody listening again:{againRate,8:F0} apps/s, {againBytes,6:F0} B/call");
        Console.WriteLine($"RESULT telemetry: quiet again at {againRate / quietRate:F2}x the first quiet rate, {againBytes / quietBytes:F2}x its allocations");
        return 0;
    }

    private static async Task<(double Rate, double BytesPerCall)> Best(int apps, FluxCallOptions options)
    {
        double bestRate = 0, bestBytes = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            var (rate, bytes) = await Round(apps, options);
            bestRate = Math.Max(bestRate, rate);
            bestBytes = Math.Min(bestBytes, bytes);
        }
        return (bestRate, bestBytes);
    }

    private static async Task<(double Rate, double BytesPerCall)> Round(int apps, FluxCallOptions options)
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var calls = new Task<int>[apps];
        for (int i = 0; i < apps; i++) calls[i] = BenchApps.NopAsync(i, options).AsTask();
        int[] results = await Task.WhenAll(calls);
        double seconds = clock.Elapsed.TotalSeconds;
        for (int i = 0; i < apps; i++) if (results[i] != i) throw new InvalidOperationException($"call {i} returned {results[i]}");
        return (apps / seconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)apps);
    }

    /// <summary>A logger factory whose loggers count what they are given at or above <see cref="Level"/>.</summary>
    private sealed class CountingLoggerFactory : ILoggerFactory, ILogger
    {
        private long _entries;

        public LogLevel Level { get; set; } = LogLevel.None;

        public long Entries => Interlocked.Read(ref _entries);

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= Level && Level != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            _ = formatter(state, exception);
            Interlocked.Increment(ref _entries);
        }
    }
}
