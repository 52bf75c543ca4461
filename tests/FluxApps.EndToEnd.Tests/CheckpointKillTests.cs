using System.Diagnostics;
using FluxApps.Runtime;
using FluxApps.Tests.Shared;

namespace FluxApps.EndToEnd.Tests;

/// <summary>A client killed with SIGKILL mid-run loses only its calls in flight: a rerun computes just the missing ones.</summary>
public sealed class CheckpointKillTests : IDisposable
{
    private const int Calls = 12;
    private readonly string _dir = TestPaths.NewTempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Process StartChild(string checkpoints) =>
        ChildClient.Start("checkpoint", checkpoints, Path.Combine(_dir, "runs"), Calls.ToString(), "300");

    private static string[] Entries(string checkpoints) =>
        Directory.Exists(checkpoints)
            ? Directory.GetFiles(checkpoints, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith(".tmp-")).ToArray()
            : [];

    [Fact]
    public async Task ARerunAfterSigkillComputesOnlyWhatIsMissing()
    {
        string checkpoints = Path.Combine(_dir, "checkpoints");

        using (var first = StartChild(checkpoints))
        {
            int done = 0;
            while (done < 3 && await first.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2)) is { } line)
                if (line.StartsWith("done ")) done++;
            first.Kill(); // SIGKILL: no finally blocks, no disposal, nothing flushed
            await first.WaitForExitAsync();
            Assert.Equal(3, done);
        }
        int stored = Entries(checkpoints).Length;
        Assert.InRange(stored, 3, Calls - 1); // what completed is kept; the rest was lost with the client

        using var rerun = StartChild(checkpoints);
        string output = await rerun.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(3));
        await rerun.WaitForExitAsync();
        Assert.True(rerun.ExitCode == 0, output + await rerun.StandardError.ReadToEndAsync());
        var results = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("done ")).ToList();
        Assert.Equal(Calls, results.Count);
        for (int x = 1; x <= Calls; x++) Assert.Contains(results, l => l.StartsWith($"done {x} = {(long)x * x} "));
        Assert.Equal(stored, results.Count(l => l.EndsWith("cached=True")));   // every stored entry was used ...
        Assert.Equal(Calls - stored, results.Count(l => l.EndsWith("cached=False"))); // ... and only the missing ones ran
        Assert.Equal(Calls, Entries(checkpoints).Length);
    }
}
