using System.Runtime.Versioning;
using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Command apps on the local backend: the program runs as every rank; the call yields its exit code and output files.</summary>
public sealed class CommandAppTests(LocalRuntimeFixture fixture) : CommandAppTestsBase<LocalRuntimeFixture>(fixture);

/// <summary>The same tests with ranks started through System.Diagnostics.Process (systems without pidfds).</summary>
public sealed class CommandAppTestsWithProcessSpawn(ProcessSpawnRuntimeFixture fixture) : CommandAppTestsBase<ProcessSpawnRuntimeFixture>(fixture);

public abstract class CommandAppTestsBase<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : LocalRuntimeFixture
{
    [Fact]
    public async Task EveryRankRunsTheProgramWithFluxsEnvironment()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var future = CommandApps.GreetAsync("world", new FluxCallOptions { Runtime = fixture.Runtime, WorkingDirectory = dir });
            FluxCommandResult result = await future;
            Assert.True(result.Succeeded);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(future.JobId, result.JobId);
            // Default output files sit in the job's working directory and outlive the call.
            Assert.Equal(dir, Path.GetDirectoryName(result.StdoutPath));
            Assert.EndsWith(".out", result.StdoutPath);
            var lines = result.ReadStdout().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();
            Assert.Equal(["rank 0 of 2: world hello", "rank 1 of 2: world hello"], lines);
            Assert.Equal("", result.ReadStderr());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task DefaultOutputNamesCannotBePredictedFromAnEarlierCallsName()
    {
        // In a shared working directory another user who sees one call's output file must not be able to plant
        // a link at the next one's name and have a later call write through it.
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var options = new FluxCallOptions { Runtime = fixture.Runtime, WorkingDirectory = dir };
            FluxCommandResult first = await CommandApps.GreetAsync("one", options);
            string victim = Path.Combine(dir, "victim");
            File.WriteAllText(victim, "");
            var planted = new HashSet<string>();
            string name = Path.GetFileNameWithoutExtension(first.StdoutPath);
            var match = System.Text.RegularExpressions.Regex.Match(name, @"^(.*-)(\d+)$");
            if (match.Success)
            {
                long call = long.Parse(match.Groups[2].Value);
                for (long next = call + 1; next <= call + 200; next++)
                {
                    string path = Path.Combine(dir, match.Groups[1].Value + next + ".out");
                    File.CreateSymbolicLink(path, victim);
                    planted.Add(path);
                }
            }
            FluxCommandResult second = await CommandApps.GreetAsync("two", options);
            Assert.DoesNotContain(second.StdoutPath, planted);
            Assert.Equal("", File.ReadAllText(victim));
            Assert.Contains("two hello", second.ReadStdout());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task NonZeroExitIsTheResultNotAnError()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var result = await CommandApps.ExitWithAsync(3, new FluxCallOptions { Runtime = fixture.Runtime, WorkingDirectory = dir });
            Assert.False(result.Succeeded);
            Assert.Equal(3, result.ExitCode);
            Assert.Null(result.Signal);
            Assert.Equal("failing\n", result.ReadStderr());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task OutputGoesWhereTheCommandSays()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "custom.txt");
            var result = await CommandApps.EchoToAsync("to a file", path, fixture.Options);
            Assert.Equal(path, result.StdoutPath);
            Assert.Equal("to a file\n", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task CancellingKillsTheProgram()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            using var cts = new CancellationTokenSource();
            var future = CommandApps.SleepAsync(60, new FluxCallOptions { Runtime = fixture.Runtime, WorkingDirectory = dir }, cts.Token);
            await FailureTests.WaitForState(future, FluxJobState.Run);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await future);
            // Far less than the program's 60 s: it was killed, not waited for (generous, for loaded CI machines).
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"cancellation took {clock.Elapsed}");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task RanksStartWithSignalsUnblockedAndAtTheirDefaults()
    {
        // .NET ignores SIGPIPE and blocks signals on some threads; a rank must start as a shell would start it.
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var result = await CommandApps.SignalStateAsync(new FluxCallOptions { Runtime = fixture.Runtime, WorkingDirectory = dir });
            Assert.Equal(0, result.ExitCode);
            var lines = result.ReadStdout().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.Matches(@"^SigBlk:\s+0+$", lines[0]);
            Assert.StartsWith("SigIgn:", lines[1]);
            ulong ignored = Convert.ToUInt64(lines[1]["SigIgn:".Length..].Trim(), 16);
            if (fixture.StartsWithProcess)
            {
                // System.Diagnostics.Process keeps what this process ignores (SIGPIPE, set by .NET, and whatever it inherited).
                string ours = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("SigIgn:"));
                ulong ourIgnored = Convert.ToUInt64(ours["SigIgn:".Length..].Trim(), 16);
                Assert.Equal(0UL, ignored & ~ourIgnored);
            }
            else
            {
                Assert.Equal(0UL, ignored); // posix_spawn resets every signal
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task AMissingProgramFailsTheCallWithItsExitStatus()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var result = await CommandApps.EchoToAsync("x", Path.Combine(dir, "o"), new FluxCallOptions
            {
                Runtime = fixture.Runtime,
                Environment = new Dictionary<string, string?> { ["PATH"] = "/nonexistent" },
            });
            Assert.Equal(127, result.ExitCode); // the shell's "command not found"
            Assert.Contains("echo", result.ReadStderr());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
