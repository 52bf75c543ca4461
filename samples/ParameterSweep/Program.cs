using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using FluxApps;

// A parameter sweep whose resources are decided per call: every point of the sweep relaxes a heated rod
// (Jacobi iterations of the 1-D heat equation); large grids get more cores and a longer time limit than
// small ones, chosen here from the parameters and passed as FluxCallOptions.
string? dryRun = DryRun.Take(ref args); // --dry-run[=yaml]: print each point's jobspec, submit nothing (DryRun.cs)
int[] gridSizes = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [2_000, 50_000, 400_000];
int[] stepCounts = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [100, 400];
int widest = Math.Min(2, Environment.ProcessorCount); // a core count every machine this runs on has
if (dryRun is not null) { DryRun.Print(dryRun, () => SubmitSweep()); return; }

await using var runtime = await FluxAppsRuntime.StartAsync();
Console.WriteLine($"FluxApps parameter sweep: {gridSizes.Length * stepCounts.Length} points on {runtime.BackendDescription}");
var clock = Stopwatch.StartNew();
var calls = SubmitSweep();

foreach (var (grid, steps, options, future) in calls)
{
    Relaxed r = await future;
    Console.WriteLine($"  grid {grid,7:N0} x {steps,4} steps: cpus={options.Cpus} limit={options.TimeLimit,-3} -> " +
        $"heat taken in {r.Heat,8:F3}, T 10 cells in {r.NearEnd:F4}, app saw {r.Cores} core(s), job {future.JobId}");
}
Console.WriteLine($"sweep of {calls.Count} points done in {clock.Elapsed.TotalSeconds:F2} s");

// One call per point, its resources chosen from its parameters.
List<(int Grid, int Steps, FluxCallOptions Options, FluxFuture<Relaxed> Future)> SubmitSweep()
{
    var calls = new List<(int Grid, int Steps, FluxCallOptions Options, FluxFuture<Relaxed> Future)>();
    foreach (int grid in gridSizes)
    {
        foreach (int steps in stepCounts)
        {
            long work = (long)grid * steps;
            var options = new FluxCallOptions
            {
                Cpus = grid >= 100_000 ? widest : 1,            // big grids: split the rod over cores
                TimeLimit = work >= 50_000_000 ? "10m" : "1m",  // and give them longer
                Name = $"heat-{grid}x{steps}",
            };
            calls.Add((grid, steps, options, Heat.RelaxAsync(grid, steps, options)));
        }
    }
    return calls;
}

/// <summary>One point's result: the heat the rod has taken in, the temperature 10 cells from its hot end, and the cores the app ran on.</summary>
public record Relaxed(int Grid, int Steps, double Heat, double NearEnd, int Cores);

public static partial class Heat
{
    /// <summary>
    /// A rod held at 0 on the left and 1 on the right, starting cold: <paramref name="steps"/> Jacobi sweeps
    /// over <paramref name="grid"/> points, split over the cores the job was given.
    /// </summary>
    [FluxApp]
    public static Relaxed Relax(int grid, int steps)
    {
        int cores = Environment.ProcessorCount; // the job's cores: workers are pinned to their allocation
        var current = new double[grid];
        var next = new double[grid];
        current[grid - 1] = next[grid - 1] = 1.0;
        int blocks = Math.Min(cores, grid / 1000 + 1);
        for (int s = 0; s < steps; s++)
        {
            var (from, to) = (current, next);
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = cores }, b =>
            {
                int lo = Math.Max(1, (int)((long)grid * b / blocks));
                int hi = Math.Min(grid - 1, (int)((long)grid * (b + 1) / blocks));
                for (int i = lo; i < hi; i++) to[i] = 0.5 * (from[i - 1] + from[i + 1]);
            });
            (current, next) = (next, current);
        }
        double heat = 0;
        for (int i = 1; i < grid - 1; i++) heat += current[i];
        return new Relaxed(grid, steps, heat, current[grid - 11], cores);
    }
}
