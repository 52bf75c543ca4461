using System.Diagnostics;
using FluxApps;
using FluxApps.Benchmarks;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// The benchmarks' soak (tests/FluxApps.Benchmarks/Soak.cs, linked here), run small on the local backend:
/// every kind of failure, each outcome checked, nothing lost or left behind.
/// </summary>
public sealed class SoakTests
{
    [Fact]
    public async Task HalfFaultyCallsAllGetTheirExpectedOutcomeAndLeaveNoProcessOrFile()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            // Exit codes outside 129-192: see ExitCodesAbove128AreReportedAsExitsNotSignals.
            var report = await Soak.RunAsync(new SoakOptions
            {
                Backend = FluxBackend.Local,
                Calls = 60,
                Faults = 0.5,
                Seed = 11,
                ExitCodes = [3, 42],
                WorkingDirectory = root,
                Telemetry = true,
            });

            Assert.Equal(60, report.Calls);
            Assert.True(report.TelemetryProblems is { Count: 0 }, "telemetry: " + string.Join("; ", report.TelemetryProblems ?? ["not checked"]));
            foreach (var kind in Enum.GetValues<SoakFault>())
                Assert.True(report.CallsByFault.GetValueOrDefault(kind) >= 4, $"only {report.CallsByFault.GetValueOrDefault(kind)} calls of {kind}");
            Assert.Equal(0, report.Lost);
            Assert.True(report.Wrong.Count == 0, "wrong outcomes: " + string.Join("; ", report.Wrong));
            Assert.True(report.Orphans.Count == 0, "orphan processes: " + string.Join("; ", report.Orphans));
            Assert.True(report.Leftovers.Count == 0, "leftover files: " + string.Join("; ", report.Leftovers));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task ExitCodesAbove128AreReportedAsExitsNotSignals()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            var report = await Soak.RunAsync(new SoakOptions
            {
                Backend = FluxBackend.Local,
                Calls = 3,
                Faults = 1,
                FaultKinds = [SoakFault.Exit],
                ExitCodes = [129, 130, 192],
                WorkingDirectory = root,
            });
            Assert.True(report.Wrong.Count == 0, "wrong outcomes: " + string.Join("; ", report.Wrong));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void PlanSpreadsTheFaultsEvenlyOverTheKindsAndDependsOnlyOnTheSeed()
    {
        var options = new SoakOptions { Calls = 5000, Faults = 0.2, Seed = 5 };
        var plan = Soak.Plan(options);
        var counts = plan.Where(f => f != SoakFault.None).GroupBy(f => f).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1000, counts.Values.Sum());
        Assert.Equal(7, counts.Count);
        Assert.True(counts.Values.Max() - counts.Values.Min() <= 1, string.Join(", ", counts));
        Assert.Equal(plan, Soak.Plan(options));
        Assert.NotEqual(plan, Soak.Plan(options with { Seed = 6 }));
    }

    [Fact]
    public async Task OrphanCheckFindsALiveProcessThatNamesTheRunDirectory()
    {
        string marker = TestPaths.NewTempDirectory();
        // The directory rides in the shell's arguments, as a worker's job directory does.
        using var process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "sleep 60", marker } })!;
        try
        {
            await WaitUntil(() => Soak.OrphanProcesses([marker], childrenToo: false).Count > 0);
            Assert.Contains(Soak.OrphanProcesses([marker], childrenToo: false), o => o.StartsWith($"pid {process.Id} ", StringComparison.Ordinal));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
            Directory.Delete(marker, recursive: true);
        }
        Assert.Empty(Soak.OrphanProcesses([marker], childrenToo: false));
    }

    [Fact]
    public async Task OrphanCheckFindsAnEarlierDescendantThatOutlivedItsParent()
    {
        // The shell starts a sleep, prints its pid, and exits when its stdin closes: the sleep is reparented,
        // as a broker or worker would be whose launcher died, and no longer names anything of this run.
        var shell = Process.Start(new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "sleep 60 >/dev/null 2>&1 & echo $!; read line" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        int sleeper = int.Parse((await shell.StandardOutput.ReadLineAsync())!);
        try
        {
            var before = Soak.Descendants();
            Assert.Contains(before, p => p.Pid == sleeper);
            shell.StandardInput.Close();
            await shell.WaitForExitAsync();
            shell.Dispose();
            Assert.Contains(Soak.OrphanProcesses([], childrenToo: true, before), o => o.StartsWith($"pid {sleeper} ", StringComparison.Ordinal));
        }
        finally
        {
            Process.GetProcessById(sleeper).Kill();
        }
    }

    [Fact]
    public void LeftoverCheckFindsWhatARunLeftInItsDirectories()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            string workingDirectory = Path.Combine(root, "run");
            Directory.CreateDirectory(Path.Combine(workingDirectory, "c1"));
            File.WriteAllText(Path.Combine(workingDirectory, "c1", "stderr"), "");
            File.WriteAllText(Path.Combine(root, "stray"), "");
            var left = Soak.LeftoverFiles(workingDirectory, root, new HashSet<string>(), fluxRunDirectory: null);
            Assert.Equal(
                [Path.Combine(root, "run") + "/", Path.Combine(root, "run", "c1"), Path.Combine(root, "run", "c1", "stderr"), Path.Combine(root, "stray")],
                left);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition never held");
            await Task.Delay(20);
        }
    }
}
