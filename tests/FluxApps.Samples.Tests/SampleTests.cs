using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace FluxApps.Samples.Tests;

/// <summary>
/// Runs every sample as its README says (the build output of <c>dotnet run --project samples/X</c>) and checks
/// what it prints. The samples that need no particular backend run on the local one, to keep the suite quick;
/// the MPI sample runs under Flux when <c>flux</c> is on PATH, else under mpiexec.
/// </summary>
public sealed class SampleTests(ITestOutputHelper output)
{
    [Fact]
    public void QuickStartEstimatesPi()
    {
        string text = RunSample("QuickStart", local: true, "4", "200000");
        Assert.Contains("[  4/4]", text);
        Assert.Matches(@"pi ~ 3\.1\d+ \(error", text);
    }

    [Fact]
    public void QuickStartPrintsALinePerResultWithPlain()
    {
        // The flag goes anywhere among the arguments; the output is the same lines as where the terminal has no live view.
        string text = RunSample("QuickStart", local: true, "--plain", "3", "200000");
        Assert.Contains("3 apps x 200,000 samples", text);
        for (int done = 1; done <= 3; done++) Assert.Contains($"  [{done,3}/3] seed ", text);
        Assert.Matches(@"pi ~ 3\.1\d+ \(error .*\) from 600,000 samples in ", text);
        Assert.DoesNotContain("calls completed", text);
        Assert.DoesNotContain("\u001b", text, StringComparison.Ordinal);
    }

    [Fact]
    public void FanOutFanInMergesEveryChunk()
    {
        string text = RunSample("FanOutFanIn", local: true, "4", "40000");
        for (int chunk = 0; chunk < 4; chunk++) Assert.Contains($"  chunk {chunk}:  10,000 values", text);
        Assert.Contains("merged: 40,000 values", text);
        Assert.Contains("matches the single-process result: True", text);
    }

    [Fact]
    public void ParameterSweepDecidesResourcesPerCall()
    {
        string text = RunSample("ParameterSweep", local: true, "2000,200000", "20,40");
        int widest = Math.Min(2, Environment.ProcessorCount);
        Assert.Contains("grid   2,000 x   20 steps: cpus=1 limit=1m ", text);
        Assert.Contains($"grid 200,000 x   40 steps: cpus={widest} limit=1m ", text);
        // The app ran on the cores its call asked for.
        Assert.Contains($"cpus={widest} limit=1m  -> heat taken in", text);
        Assert.Matches($@"200,000 x   40 steps: cpus={widest} .* app saw {widest} core\(s\)", text);
        Assert.Contains("sweep of 4 points done", text);
    }

    [SkippableFact]
    public void MpiAllreduceRunsFourRanks()
    {
        Skip.If(FindOnPath("mpicc") is null,
            "the MPI sample needs mpicc (Debian: apt-get install mpich libmpich-dev; build/test.sh installs it when run as root with apt-get)");
        bool flux = FindOnPath("flux") is not null;
        Skip.If(!flux && FindOnPath("mpiexec") is null, "the MPI sample needs flux or mpiexec on PATH, and neither is there");
        string text = RunSample("MpiAllreduce", local: false);
        for (int rank = 0; rank < 4; rank++) Assert.Contains($"rank {rank} of 4 on ", text);
        Assert.Contains(flux ? "allreduce over 4 ranks (Flux's PMI): every rank has sum 10" : "allreduce over 4 ranks (mpiexec): every rank has sum 10", text);
        if (flux)
        {
            // Two brokers, two ranks on each.
            Assert.Contains("2 broker(s)", text);
            Assert.Contains("rank 1 of 4 on vm, local task 1", text.Replace(Environment.MachineName, "vm"));
            Assert.Contains("rank 2 of 4 on vm, local task 0", text.Replace(Environment.MachineName, "vm"));
        }
    }

    private string RunSample(string name, bool local, params string[] args)
    {
        string configuration = typeof(SampleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Configuration").Value!;
        string dll = Path.Combine(RepoRoot(), "samples", name, "bin", configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), "the sample was not built: " + dll);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (local) psi.Environment["FLUXAPPS_BACKEND"] = "local";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"sample {name} did not finish in 4 minutes:\n{stdout.Result}{stderr.Result}");
        }
        string text = stdout.Result + stderr.Result;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"sample {name} exited with {process.ExitCode}:\n{text}");
        return text;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
