namespace FluxApps.TestApps;

/// <summary>Apps whose attributes set every resource property, for dry-run descriptions.</summary>
public static partial class DryRunApps
{
    /// <summary>A multi-node MPI app with GPUs, a time limit, a queue, an urgency and a job name of its own.</summary>
    [FluxApp(Cpus = 4, Gpus = 1, MpiRanks = 8, Nodes = 2, TimeLimit = "10m", Queue = "batch", Urgency = 20, Name = "simulate")]
    public static double Simulate(int steps, double dt) => steps * dt;

    /// <summary>Retried and cached.</summary>
    [FluxApp(Retries = 2, Cache = true)]
    public static int Square(int x) => x * x;
}
