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

    [Fact]
    public void QuickStartDryRunPrintsTheJobspecAndSubmitsNothing()
    {
        string workDir = Directory.CreateTempSubdirectory("fluxapps-dryrun-").FullName;
        try
        {
            // A runtime would create its run directory in FLUXAPPS_WORKDIR: the dry run starts none.
            var environment = new Dictionary<string, string> { ["FLUXAPPS_WORKDIR"] = workDir };
            var (json, notes) = RunSampleOutputs("QuickStart", environment, "--dry-run", "4", "1000");
            var jobspec = Assert.Single(ParseJsonDocuments(json));
            Assert.Equal(1, jobspec.GetProperty("version").GetInt32());
            Assert.Equal(1, jobspec.GetProperty("resources")[0].GetProperty("with")[0].GetProperty("count").GetInt32());
            var command = jobspec.GetProperty("tasks")[0].GetProperty("command").EnumerateArray().Select(a => a.GetString()).ToArray();
            Assert.Equal("<run-directory>/c1", command[^1]);
            Assert.EndsWith("FluxApps.dll", command[^2]);
            var system = jobspec.GetProperty("attributes").GetProperty("system");
            Assert.Equal(600, system.GetProperty("duration").GetDouble());
            Assert.Equal("MonteCarlo.CountHits", system.GetProperty("job").GetProperty("name").GetString());
            Assert.Contains("dry run, nothing submitted: 1 call(s)", notes);
            Assert.Contains("the other 3 call(s) are jobs like this one", notes);
            Assert.DoesNotContain("pi ~", json + notes);
            Assert.Empty(Directory.EnumerateFileSystemEntries(workDir));

            var (yaml, _) = RunSampleOutputs("QuickStart", environment, "--yaml");
            Assert.StartsWith("---\nresources:\n  - type: slot\n", yaml);
            Assert.Contains("    name: MonteCarlo.CountHits\n", yaml);
            Assert.Empty(Directory.EnumerateFileSystemEntries(workDir));
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }

    [Fact]
    public void ParameterSweepDryRunShowsTheResourcesChosenForEachPoint()
    {
        var (json, notes) = RunSampleOutputs("ParameterSweep", new Dictionary<string, string>(), "2000,200000", "20,400", "--dry-run");
        var jobspecs = ParseJsonDocuments(json);
        int widest = Math.Min(2, Environment.ProcessorCount);
        Assert.Equal(["heat-2000x20", "heat-2000x400", "heat-200000x20", "heat-200000x400"],
            jobspecs.Select(j => j.GetProperty("attributes").GetProperty("system").GetProperty("job").GetProperty("name").GetString()));
        Assert.Equal([1, 1, widest, widest], jobspecs.Select(j => j.GetProperty("resources")[0].GetProperty("with")[0].GetProperty("count").GetInt32()));
        Assert.Equal([60.0, 60.0, 60.0, 600.0], jobspecs.Select(j => j.GetProperty("attributes").GetProperty("system").GetProperty("duration").GetDouble()));
        Assert.Equal(["<run-directory>/c1", "<run-directory>/c2", "<run-directory>/c3", "<run-directory>/c4"],
            jobspecs.Select(j => j.GetProperty("tasks")[0].GetProperty("command").EnumerateArray().Last().GetString()));
        Assert.Contains("dry run, nothing submitted: 4 call(s)", notes);
        Assert.Contains($"job \"heat-200000x400\", 1 rank x {widest} core{(widest == 1 ? "" : "s")}, time limit 10m", notes);
        Assert.DoesNotContain("sweep of", json + notes);
    }

    /// <summary>The JSON documents of a dry run's standard output, one after another.</summary>
    private static List<System.Text.Json.JsonElement> ParseJsonDocuments(string text)
    {
        var documents = new List<System.Text.Json.JsonElement>();
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text), new System.Text.Json.JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = System.Text.Json.JsonDocument.ParseValue(ref reader);
            documents.Add(document.RootElement.Clone());
        }
        return documents;
    }

    private string RunSample(string name, bool local, params string[] args)
    {
        var environment = new Dictionary<string, string>();
        if (local) environment["FLUXAPPS_BACKEND"] = "local";
        var (stdout, stderr) = RunSampleOutputs(name, environment, args);
        return stdout + stderr;
    }

    /// <summary>Runs a sample to its end (it must exit 0) and returns its standard output and standard error.</summary>
    private (string Stdout, string Stderr) RunSampleOutputs(string name, Dictionary<string, string> environment, params string[] args)
    {
        string configuration = typeof(SampleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Configuration").Value!;
        string dll = Path.Combine(RepoRoot(), "samples", name, "bin", configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), "the sample was not built: " + dll);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (var (variable, value) in environment) psi.Environment[variable] = value;
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
        return (stdout.Result, stderr.Result);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
