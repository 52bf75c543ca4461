using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace FluxApps.Benchmarks;

/// <summary>
/// <c>aot [apps] [parallel] [runs] [--no-publish]</c>: the benchmarks' own app program (tests/FluxApps.Benchmarks.AotApp)
/// published NativeAOT against a bare NativeAOT program (tests/FluxApps.Benchmarks.Floor published AOT). Worker start:
/// one kept call's worker command (<c>AotApp keep-one</c>) against the floor process, <c>runs</c> times each, medians.
/// Throughput: <c>apps</c> trivial apps on the local backend (<c>AotApp throughput</c>), <c>parallel</c> at a time, against as many floor processes
/// at the same parallelism, best of 3 rounds, with the working directory on the temp disk and on /dev/shm.
/// Publishes both programs first (into $TMPDIR/fluxapps-aot) unless <c>--no-publish</c> finds them there.
/// </summary>
internal static class Aot
{
    public static async Task RunAsync(string[] args)
    {
        bool publish = !args.Contains("--no-publish");
        int[] numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
        int apps = numbers.Length > 0 ? numbers[0] : 400;
        int parallel = numbers.Length > 1 ? numbers[1] : Environment.ProcessorCount;
        int runs = numbers.Length > 2 ? numbers[2] : 50;

        string outRoot = Path.Combine(Path.GetTempPath(), "fluxapps-aot");
        string appProgram = Path.Combine(outRoot, "aotapp", "FluxApps.Benchmarks.AotApp");
        string floor = Path.Combine(outRoot, "floor", "FluxApps.Benchmarks.Floor");
        if (publish || !File.Exists(appProgram) || !File.Exists(floor))
        {
            string repo = RepoRoot();
            int warnings = Publish(repo, "tests/FluxApps.Benchmarks.AotApp", "-p:Aot=true", Path.GetDirectoryName(appProgram)!);
            Publish(repo, "tests/FluxApps.Benchmarks.Floor", "-p:PublishAot=true", Path.GetDirectoryName(floor)!);
            Console.WriteLine($"RESULT aot publish: tests/FluxApps.Benchmarks.AotApp published NativeAOT with {warnings} warning(s) ({appProgram}, {new FileInfo(appProgram).Length / 1024} KiB)");
        }
        Console.WriteLine($"aot: {RuntimeInformation.RuntimeIdentifier}, {Environment.ProcessorCount} CPUs, {apps} apps {parallel} at a time, {runs} start-up runs");

        await WorkerStartAsync(appProgram, floor, runs);
        foreach (var (label, root) in WorkDirectories())
            await ThroughputAsync(appProgram, floor, apps, parallel, label, root);
    }

    /// <summary>The worker of one kept call, started as the local backend starts it, against the bare AOT program.</summary>
    private static async Task WorkerStartAsync(string appProgram, string floor, int runs)
    {
        string work = Directory.CreateTempSubdirectory("fluxapps-aot-start-").FullName;
        try
        {
            string output = await RunToEndAsync(appProgram, ["keep-one"], new() { ["FLUXAPPS_WORKDIR"] = work });
            string[] command = Line(output, "worker command: ").Split('\t');
            string jobDir = Line(output, "job directory: ");
            var env = new Dictionary<string, string> { ["FLUX_TASK_RANK"] = "0", ["FLUXAPPS_JOB_DIR"] = jobDir };
            string input = Path.Combine(work, "floor-in.bin");
            File.WriteAllBytes(input, File.ReadAllBytes(Path.Combine(jobDir, "args.bin")));
            string[] floorArgs = [input, Path.Combine(work, "floor-out.bin")];

            var bare = new List<double>();
            var worker = new List<double>();
            for (int i = 0; i < runs + 2; i++)
            {
                bare.Add(Floor.Time(floor, floorArgs, null));
                worker.Add(Floor.Time(command[0], command.Skip(1), env));
            }
            // Drop the first runs (disk cache) and take medians.
            double bareMs = Floor.Median(bare.Skip(2)), workerMs = Floor.Median(worker.Skip(2));
            Console.WriteLine($"RESULT aot worker start: worker {workerMs:F2} ms, bare AOT process {bareMs:F2} ms, " +
                              $"worker adds {workerMs - bareMs:F2} ms (ratio {workerMs / bareMs:F3}), median of {runs}");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    private static async Task ThroughputAsync(string appProgram, string floor, int apps, int parallel, string label, string root)
    {
        string work = Directory.CreateDirectory(Path.Combine(root, $"fluxapps-aot-{Environment.ProcessId}-{label}")).FullName;
        try
        {
            var env = new Dictionary<string, string> { ["FLUXAPPS_WORKDIR"] = work, ["FLUXAPPS_BACKEND"] = "local" };
            await Floor.RunAsync([floor], parallel * 2, parallel, work); // warm-up (the app program warms up itself)
            double bestApps = double.MaxValue, bestFloor = double.MaxValue;
            for (int round = 1; round <= 3; round++)
            {
                double floorSeconds = (await Floor.RunAsync([floor], apps, parallel, work)).TotalSeconds;
                string output = await RunToEndAsync(appProgram, ["throughput", apps.ToString(CultureInfo.InvariantCulture), parallel.ToString(CultureInfo.InvariantCulture)], env);
                var match = Regex.Match(output, @"throughput: (\d+) apps in ([0-9.]+) s");
                if (!match.Success || int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) != apps)
                    throw new InvalidOperationException("unexpected output from the app program: " + output);
                double appSeconds = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                Console.WriteLine($"  {label} round {round}: apps {appSeconds:F2} s ({apps / appSeconds:F0}/s), floor {floorSeconds:F2} s ({apps / floorSeconds:F0}/s), " +
                                  $"ratio {appSeconds / floorSeconds:F3}");
                bestApps = Math.Min(bestApps, appSeconds);
                bestFloor = Math.Min(bestFloor, floorSeconds);
            }
            Console.WriteLine($"RESULT aot local throughput ({label}: {work}): {apps} apps in {bestApps:F2} s = {apps / bestApps:F1} apps/s; " +
                              $"floor ({apps} plain AOT processes that read and write a small file, {parallel} at a time) {bestFloor:F2} s = {apps / bestFloor:F1}/s; ratio {bestApps / bestFloor:F3}");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>The temp directory (a disk here), and /dev/shm (tmpfs, where the local backend keeps its files by default) where there is one.</summary>
    private static IEnumerable<(string Label, string Root)> WorkDirectories()
    {
        yield return ("tmp", Path.GetTempPath());
        if (Directory.Exists("/dev/shm")) yield return ("shm", "/dev/shm");
    }

    private static int Publish(string repo, string project, string aotProperty, string output)
    {
        var arguments = new List<string> { Path.GetFullPath(Floor.FindDotnet()), "publish", project, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, aotProperty, "-o", output, "-nologo" };
        // Where only a versioned clang is installed (Debian's clang-14), name it; without either, the SDK falls back to gcc.
        if (OperatingSystem.IsLinux() && !OnPath("clang") && OnPath("clang-14")) arguments.Add("-p:CppCompilerAndLinker=clang-14");
        // A publish is CPU-heavy: stay out of the way of others on a shared machine.
        if (OnPath("nice")) arguments.InsertRange(0, ["nice", "-n", "10"]);
        Console.WriteLine("aot: " + string.Join(' ', arguments));
        var psi = new ProcessStartInfo(arguments[0]) { UseShellExecute = false, WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string all = stdout + stderr.Result;
        var warnings = all.Split('\n').Where(l => Regex.IsMatch(l, @"\bwarning [A-Z]+\d+")).Distinct().ToList();
        foreach (string w in warnings) Console.WriteLine("  " + w.Trim());
        if (p.ExitCode != 0) throw new InvalidOperationException($"publishing {project} failed:\n{all}");
        return warnings.Count;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FluxApps.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("FluxApps.sln not found above " + AppContext.BaseDirectory);
    }

    private static async Task<string> RunToEndAsync(string program, IEnumerable<string> arguments, Dictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        string output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', psi.ArgumentList)} exited {p.ExitCode}:\n{output}");
        return output;
    }

    private static string Line(string output, string prefix) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..]
        ?? throw new InvalidOperationException($"no \"{prefix}\" line in:\n{output}");
}
