using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using FluxApps;

// Estimates pi by Monte Carlo: many independent apps, each a separate job with its own core.
string? dryRun = DryRun.Take(ref args); // --dry-run[=yaml]: print the jobspec, submit nothing (DryRun.cs)
// On a terminal it shows their progress live (ProgressView.cs); --plain prints a line per result instead.
bool plain = args.Contains(ProgressView.PlainFlag);
args = [.. args.Where(a => a != ProgressView.PlainFlag)];
int apps = args.Length > 0 ? int.Parse(args[0]) : 16;
long samplesPerApp = args.Length > 1 ? long.Parse(args[1]) : 2_000_000;
if (dryRun is not null) { DryRun.Describe(dryRun, apps, samplesPerApp); return; }

await using var runtime = await FluxAppsRuntime.StartAsync();
Console.WriteLine($"FluxApps quick start: {apps} apps x {samplesPerApp:N0} samples on {runtime.BackendDescription}");

var clock = Stopwatch.StartNew();
// The live view counts the runtime's events: subscribe before making the calls, so it sees every one of them.
var events = ProgressView.CanShowLive(plain) ? runtime.WatchEventsAsync() : null;
var futures = Enumerable.Range(0, apps).Select(seed => MonteCarlo.CountHitsAsync(seed, samplesPerApp)).ToList();
long hits = 0;
if (events is not null)
{
    await ProgressView.ShowAsync(new CallProgress(apps), events);
    foreach (var future in futures) hits += (await future).Hits;
}
else
{
    var pending = futures.Select(f => f.AsTask()).ToList();
    int done = 0;
    while (pending.Count > 0)
    {
        var finished = await Task.WhenAny(pending);
        pending.Remove(finished);
        var sample = await finished;
        hits += sample.Hits;
        done++;
        Console.WriteLine($"  [{done,3}/{apps}] seed {sample.Seed,3} on rank {sample.Rank} of job {sample.JobId}: pi ~ {4.0 * sample.Hits / samplesPerApp:F5}");
    }
}
double pi = 4.0 * hits / (samplesPerApp * apps);
Console.WriteLine($"pi ~ {pi:F6} (error {Math.Abs(pi - Math.PI):E2}) from {apps * samplesPerApp:N0} samples in {clock.Elapsed.TotalSeconds:F2} s");

/// <summary>One Monte Carlo batch: the result of one app.</summary>
public record Sample(int Seed, long Hits, int Rank, string JobId);

public static partial class MonteCarlo
{
    /// <summary>Throws <paramref name="samples"/> darts at the unit square; counts those inside the quarter circle.</summary>
    [FluxApp(Cpus = 1, TimeLimit = "10m")]
    public static Sample CountHits(int seed, long samples)
    {
        var random = new Random(seed);
        long hits = 0;
        for (long i = 0; i < samples; i++)
        {
            double x = random.NextDouble(), y = random.NextDouble();
            if (x * x + y * y <= 1.0) hits++;
        }
        var context = FluxAppContext.Current;
        return new Sample(seed, hits, context.Rank, context.JobId.ToString());
    }
}
