using System.Diagnostics;
using System.Text.RegularExpressions;
using FluxApps.Tests.Shared;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// A stored result survives a crash of the machine: after the temporary file is renamed over the entry, the
/// entry's directory is flushed too (a rename lives in the directory, which a file's own fsync does not write).
/// Watched with strace on a real client program.
/// </summary>
public sealed class CheckpointDurabilityTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task TheEntrysDirectoryIsFlushedAfterTheRename()
    {
        string? strace = new[] { "/usr/bin/strace", "/bin/strace" }.FirstOrDefault(File.Exists);
        Skip.If(strace is null, "strace is not installed: the directory flush cannot be watched");
        string checkpoints = Path.Combine(_dir, "checkpoints"), log = Path.Combine(_dir, "strace.log");
        var psi = new ProcessStartInfo(strace!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-f", "-qq", "-y", "-e", "trace=rename,renameat,renameat2,fsync,fdatasync", "-o", log,
                     Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", ChildClient.Program,
                     "checkpoint", checkpoints, Path.Combine(_dir, "runs"), "1", "0" })
            psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        string output = await child.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(3));
        await child.WaitForExitAsync();
        Assert.True(child.ExitCode == 0, output + await child.StandardError.ReadToEndAsync());
        Assert.Contains("done 1 = 1 cached=False", output);

        string entry = Directory.GetFiles(checkpoints, "*", SearchOption.AllDirectories).Single();
        string appDirectory = Path.GetDirectoryName(entry)!;
        var lines = File.ReadAllLines(log);
        int rename = Array.FindIndex(lines, l => Regex.IsMatch(l, @"rename(at2?)?\(") && l.Contains('"' + entry + '"'));
        Assert.True(rename >= 0, $"no rename onto {entry} in the trace:\n{string.Join('\n', lines)}");
        // -y prints each descriptor's path: fsync(12</...checkpoints/app>) = 0 (or split by another thread: "<unfinished ...>")
        Assert.Contains(lines.Skip(rename + 1), l => l.Contains("fsync(") && l.Contains('<' + appDirectory + '>'));
    }
}
