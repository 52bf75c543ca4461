using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using FluxApps;

// A fan-out/fan-in pipeline: split a data set into chunks, summarize every chunk as its own app (all
// running at once, as many as the cores allow), then merge the summaries in one more app.
string? dryRun = DryRun.Take(ref args); // --dry-run[=yaml]: print the jobspecs, submit nothing (DryRun.cs)
int chunks = args.Length > 0 ? int.Parse(args[0]) : 8;
int size = args.Length > 1 ? int.Parse(args[1]) : 400_000;

// The data set: deterministic, so every run prints the same statistics.
var random = new Random(42);
double[] data = new double[size];
for (int i = 0; i < size; i++) data[i] = 50 + 10 * (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5);

if (dryRun is not null) return DryRun.Describe(dryRun, data, chunks);

await using var runtime = await FluxAppsRuntime.StartAsync();
Console.WriteLine($"FluxApps fan-out/fan-in: {size:N0} values in {chunks} chunks on {runtime.BackendDescription}");
var clock = Stopwatch.StartNew();

// Fan out: one app per chunk; each future is the job's, so they all run concurrently.
int chunkSize = (size + chunks - 1) / chunks;
var futures = data.Chunk(chunkSize).Select((chunk, index) => Statistics.SummarizeAsync(index, chunk)).ToList();

// Fan in: the chunk summaries become the arguments of the merge app.
Summary[] parts = await Task.WhenAll(futures.Select(f => f.AsTask()));
foreach (var part in parts)
    Console.WriteLine($"  chunk {part.Chunk}: {part.Count,7:N0} values, mean {part.Sum / part.Count:F4} (job {part.JobId})");
Summary total = await Statistics.MergeAsync(parts);

double mean = total.Sum / total.Count;
double stddev = Math.Sqrt(total.SumOfSquares / total.Count - mean * mean);
Console.WriteLine($"merged: {total.Count:N0} values, mean {mean:F4}, stddev {stddev:F4}, min {total.Min:F4}, max {total.Max:F4} in {clock.Elapsed.TotalSeconds:F2} s");

// The same statistics computed here in one piece: the pipeline must agree.
Summary whole = Statistics.Summarize(-1, data);
bool agrees = whole.Count == total.Count && whole.Min == total.Min && whole.Max == total.Max
    && Math.Abs(whole.Sum - total.Sum) <= 1e-9 * Math.Abs(whole.Sum);
Console.WriteLine($"matches the single-process result: {agrees}");
return agrees ? 0 : 1;

/// <summary>What one chunk (or several, merged) holds: enough to combine into the statistics of the whole.</summary>
public record Summary(int Chunk, long Count, double Sum, double SumOfSquares, double Min, double Max, string JobId);

public static partial class Statistics
{
    /// <summary>Fan-out stage: one chunk's count, sums and range.</summary>
    [FluxApp(Cpus = 1, TimeLimit = "10m")]
    public static Summary Summarize(int chunk, double[] values)
    {
        double sum = 0, squares = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            sum += v;
            squares += v * v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        string job = chunk < 0 ? "local" : FluxAppContext.Current.JobId.ToString();
        return new Summary(chunk, values.Length, sum, squares, min, max, job);
    }

    /// <summary>Fan-in stage: combines the chunks' summaries.</summary>
    [FluxApp(Cpus = 1, TimeLimit = "10m")]
    public static Summary Merge(Summary[] parts) =>
        parts.Aggregate((a, b) => new Summary(-1, a.Count + b.Count, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares,
            Math.Min(a.Min, b.Min), Math.Max(a.Max, b.Max), FluxAppContext.Current.JobId.ToString()));
}
