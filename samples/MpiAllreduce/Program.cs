using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FluxApps;

// An MPI program as a command app: a 4-rank MPI_Allreduce written in C, compiled here with mpicc, run as
// a Flux job whose 4 tasks are the MPI ranks (Flux's job shell is their PMI: MPICH needs no mpiexec), over
// 2 brokers of a private test instance (flux start --test-size=2). Without Flux, the local backend runs
// the same program under mpiexec.
const int Ranks = 4;
string? dryRun = DryRun.Take(ref args); // --dry-run[=yaml]: print the jobspec, compile and submit nothing (DryRun.cs)

bool insideFlux = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("FLUX_URI"));
bool useFlux = Environment.GetEnvironmentVariable("FLUXAPPS_BACKEND")?.Trim().ToLowerInvariant() switch
{
    "local" => false,
    "flux" => true,
    _ => insideFlux || Tools.FindOnPath("flux") is not null,
};
// The MPI program, compiled beside this sample's build output (visible to the jobs: the same machine).
string directory = Path.Combine(AppContext.BaseDirectory, "mpi");
string program = Path.Combine(directory, "allreduce");
if (dryRun is not null) { DryRun.Print(dryRun, () => Allreduce()); return 0; }

string? mpicc = Tools.FindOnPath("mpicc");
if (mpicc is null)
{
    Console.Error.WriteLine("This sample needs an MPI C compiler, mpicc, on PATH (Debian/Ubuntu: apt-get install mpich libmpich-dev).");
    return 2;
}
if (!useFlux && Tools.FindOnPath("mpiexec") is null)
{
    Console.Error.WriteLine("This sample needs Flux (flux on PATH, or run it inside a Flux instance) or MPI's mpiexec on PATH.");
    return 2;
}

Directory.CreateDirectory(directory);
var compile = Process.Start(new ProcessStartInfo(mpicc, ["-O2", "-o", program, Path.Combine(AppContext.BaseDirectory, "allreduce.c")]))!;
compile.WaitForExit();
if (compile.ExitCode != 0)
{
    Console.Error.WriteLine($"mpicc failed with exit code {compile.ExitCode}.");
    return 1;
}

var options = useFlux
    ? new FluxAppsOptions
    {
        Backend = FluxBackend.Flux,
        // A private instance of 2 brokers on this machine, standing in for 2 nodes; inside an instance, that one.
        FluxLaunchCommand = insideFlux ? null : "{flux} start --test-size=2 {program}",
    }
    : new FluxAppsOptions { Backend = FluxBackend.Local };
await using var runtime = await FluxAppsRuntime.StartAsync(options);
Console.WriteLine($"FluxApps MPI allreduce: {Ranks} ranks on {runtime.BackendDescription}");

FluxCommandResult result = await Allreduce();
string[] lines = result.ReadStdout().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
foreach (string line in lines) Console.WriteLine("  " + line);
if (!result.Succeeded) Console.Error.WriteLine(result.ReadStderr());
long expected = Ranks * (Ranks + 1) / 2;
bool agrees = result.Succeeded && lines.Length == Ranks && lines.All(l => l.Contains($"allreduce sum = {expected} "));
Console.WriteLine(agrees
    ? $"allreduce over {Ranks} ranks ({(useFlux ? "Flux's PMI" : "mpiexec")}): every rank has sum {expected}, job {result.JobId}"
    : $"allreduce FAILED: exit code {result.ExitCode}, {lines.Length} of {Ranks} ranks reported");
return agrees ? 0 : 1;

// The one call: 4 Flux tasks over 2 brokers, or one task that runs mpiexec.
FluxFuture<FluxCommandResult> Allreduce() => useFlux
    ? Mpi.AllreduceAsync(program, new FluxCallOptions { Nodes = insideFlux ? null : 2 })
    : Mpi.AllreduceWithMpiexecAsync(program, Ranks);

public static partial class Mpi
{
    /// <summary>The MPI program as 4 Flux tasks: Flux's job shell starts the ranks and serves them PMI.</summary>
    [FluxApp(MpiRanks = 4, TimeLimit = "5m")]
    public static FluxCommand Allreduce(string program) => new(program);

    /// <summary>Without Flux: one task that runs the ranks through MPI's own launcher.</summary>
    [FluxApp(TimeLimit = "5m")]
    public static FluxCommand AllreduceWithMpiexec(string program, int ranks) => new("mpiexec", "-n", ranks.ToString(), program)
    {
        // The one task's Flux-style variables describe mpiexec, not the ranks it starts.
        Environment = new System.Collections.Generic.Dictionary<string, string?> { ["FLUX_TASK_LOCAL_ID"] = null },
    };
}

internal static class Tools
{
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
