using FluxApps;

namespace FluxApps.Flux.Tests;

/// <summary>Apps that look at where Flux put them.</summary>
public static partial class PlacementApps
{
    /// <summary>Each rank writes what it sees of its placement to <c>rank-N</c>: its broker's URI, node count, CPUs.</summary>
    [FluxApp(MpiRanks = 2, Nodes = 2)]
    public static int ReportPlacement(string directory)
    {
        var c = FluxAppContext.Current;
        string cpus = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list:")).Split(':')[1].Trim();
        File.WriteAllText(Path.Combine(directory, $"rank-{c.Rank}"),
            string.Join("\n", Environment.GetEnvironmentVariable("FLUX_URI"), c.Nodes, c.Size, c.LocalRank, cpus, c.JobId));
        return c.Nodes;
    }

    /// <summary>The CPUs this task may run on (rank 0's).</summary>
    [FluxApp(MpiRanks = 2)]
    public static string AllowedCpus() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list:")).Split(':')[1].Trim();

    /// <summary>A variable as the job sees it.</summary>
    [FluxApp]
    public static string? Variable(string name) => Environment.GetEnvironmentVariable(name);
}

/// <summary>Command apps: Flux launches the program itself as every task, with its PMI.</summary>
public static partial class MpiCommandApps
{
    /// <summary>An MPI-style program: every rank joins a PMI barrier through Flux's PMI server.</summary>
    [FluxApp(MpiRanks = 4, Nodes = 2)]
    public static FluxCommand PmiBarrier() => new("flux", "pmi", "-v", "barrier");
}
