using System.Diagnostics;
using FluxApps;

namespace FluxApps.Benchmarks;

/// <summary>
/// N trivial apps on the Flux backend against the floor measured in the same instance: the same
/// plain .NET process submitted N times with <c>flux submit --cc=1-N --wait</c>.
/// </summary>
internal static class FluxThroughput
{
    public static async Task RunAsync(int apps)
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-bench-").FullName;
        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, WorkingDirectory = dir });
        var options = new FluxCallOptions { Runtime = runtime };
        string uri = runtime.FluxUri!;
        Console.WriteLine($"flux throughput: {apps} trivial apps on {runtime.BackendDescription} ({uri})");
        string input = Path.Combine(dir, "floor-in.bin");
        File.WriteAllBytes(input, new byte[64]);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => BenchApps.NopAsync(i, options).AsTask())); // warm-up
        await Submit(uri, 4, input, dir);

        TimeSpan bestApps = TimeSpan.MaxValue, bestFloor = TimeSpan.MaxValue;
        for (int round = 1; round <= 2; round++)
        {
            var floor = await Submit(uri, apps, input, dir);
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, apps).Select(i => BenchApps.NopAsync(i, options).AsTask()));
            var elapsed = clock.Elapsed;
            if (!results.SequenceEqual(Enumerable.Range(0, apps))) throw new InvalidOperationException("wrong results");
            Console.WriteLine($"  round {round}: apps {elapsed.TotalSeconds:F2} s ({apps / elapsed.TotalSeconds:F1}/s), flux submit floor {floor.TotalSeconds:F2} s ({apps / floor.TotalSeconds:F1}/s), ratio {elapsed / floor:F3}");
            bestApps = elapsed < bestApps ? elapsed : bestApps;
            bestFloor = floor < bestFloor ? floor : bestFloor;
        }
        Console.WriteLine($"RESULT flux throughput: {apps} apps in {bestApps.TotalSeconds:F2} s = {apps / bestApps.TotalSeconds:F1} apps/s; " +
                          $"floor (flux submit --cc=1-{apps} --wait of a plain .NET process) {bestFloor.TotalSeconds:F2} s; ratio {bestApps / bestFloor:F3}");
        Directory.Delete(dir, true);
    }

    /// <summary><c>flux submit --cc=1-N --wait</c> of the floor program, timed.</summary>
    private static async Task<TimeSpan> Submit(string uri, int count, string input, string dir)
    {
        var psi = new ProcessStartInfo("flux") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string a in new[] { "submit", "--quiet", $"--cc=1-{count}", "--wait", "-n1", Floor.FindDotnet(), Floor.Dll, input, Path.Combine(dir, "floor-out-{cc}.bin") })
            psi.ArgumentList.Add(a);
        psi.Environment["FLUX_URI"] = uri;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"flux submit exited {p.ExitCode}");
        return clock.Elapsed;
    }
}
