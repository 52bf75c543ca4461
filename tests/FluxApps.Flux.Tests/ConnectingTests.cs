using FluxApps;
using FluxApps.Backends.Flux;
using FluxApps.Runtime;

namespace FluxApps.Flux.Tests;

/// <summary>Finding libflux-core, launch commands, and the backend choice (no Flux needed).</summary>
public sealed class ConnectingTests
{
    [Fact]
    public void LibraryCandidatesComeInOrderUserThenSystemThenNextToFlux()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            // <root>/prefix/bin/flux, reached through a symlink in <root>/links
            string bin = Directory.CreateDirectory(Path.Combine(root, "prefix", "bin")).FullName;
            string flux = Path.Combine(bin, "flux");
            File.WriteAllText(flux, "#!/bin/sh\n");
            string links = Directory.CreateDirectory(Path.Combine(root, "links")).FullName;
            File.CreateSymbolicLink(Path.Combine(links, "flux"), flux);

            var candidates = FluxLibrary.Candidates("/opt/custom/libflux-core.so.2", links + ":/nonexistent");
            Assert.Equal("/opt/custom/libflux-core.so.2", candidates[0].Path);
            Assert.Equal("libflux-core.so.2", candidates[1].Path);
            Assert.False(candidates[1].MustExist);
            Assert.Equal(Path.Combine(root, "lib", "libflux-core.so.2"), candidates[2].Path);             // ../lib of the link's folder
            Assert.Equal(Path.Combine(root, "prefix", "lib", "libflux-core.so.2"), candidates[3].Path);   // ../lib of the real flux
            Assert.Contains("next to", candidates[3].Why);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void ADirectoryNamedByTheUserIsSearchedAndItsLibFolderToo()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            var candidates = FluxLibrary.Candidates(root, null);
            Assert.Equal(Path.Combine(root, "libflux-core.so.2"), candidates[0].Path);
            Assert.Equal(Path.Combine(root, "lib", "libflux-core.so.2"), candidates[1].Path);
            Assert.Equal("libflux-core.so.2", candidates[2].Path);
            Assert.Equal(3, candidates.Count);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [SkippableFact]
    public void LocatingSaysWhyEachCandidateFailed()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "dlopen semantics are Linux's");
        string root = TestPaths.NewTempDirectory();
        try
        {
            string notElf = Path.Combine(root, "garbage", "libflux-core.so.2");
            Directory.CreateDirectory(Path.GetDirectoryName(notElf)!);
            File.WriteAllText(notElf, "not a library");
            string otherLibrary = new[] { "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1", "/usr/lib/aarch64-linux-gnu/libz.so.1" }
                .FirstOrDefault(File.Exists) ?? notElf;
            var tried = new List<string>();
            var (handle, _) = FluxLibrary.Locate(
            [
                new FluxLibrary.Candidate(Path.Combine(root, "missing", "libflux-core.so.2"), "a test", true),
                new FluxLibrary.Candidate(notElf, "a test", true),
                new FluxLibrary.Candidate(otherLibrary, "a test", true),
                new FluxLibrary.Candidate("libflux-core-no-such.so.9", "the system library path", false),
            ], tried);
            Assert.Equal(0, handle);
            Assert.Equal(4, tried.Count);
            Assert.EndsWith("no such file", tried[0]);
            Assert.Contains("could not be loaded", tried[1]);
            if (otherLibrary != notElf) Assert.Contains("lacks flux_job_event_watch", tried[2]);
            Assert.Equal("libflux-core-no-such.so.9 (the system library path): not found", tried[3]);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [SkippableFact]
    public void TheInstalledLibraryIsFoundNextToFluxOnPath()
    {
        FluxAvailability.SkipIfAbsent();
        string flux = FluxLibrary.FindFluxOnPath()!;
        var nextToFlux = FluxLibrary.Candidates(null, Path.GetDirectoryName(flux)).Where(c => c.MustExist).ToList();
        var tried = new List<string>();
        var (handle, from) = FluxLibrary.Locate(nextToFlux, tried);
        Assert.True(handle != 0, "not found next to " + flux + ": " + string.Join("; ", tried));
        Assert.EndsWith("/lib/libflux-core.so.2", from);
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
    }

    [Fact]
    public void TheMissingLibraryErrorListsEveryPlaceTried()
    {
        var ex = new FluxLibraryNotFoundException(["/x/libflux-core.so.2 (named by FluxLibraryPath): no such file", "libflux-core.so.2 (the system library path): not found"]);
        Assert.Contains("libflux-core.so.2", ex.Message);
        Assert.Contains("  - /x/libflux-core.so.2 (named by FluxLibraryPath): no such file", ex.Message);
        Assert.Contains("  - libflux-core.so.2 (the system library path): not found", ex.Message);
        Assert.Contains("FLUXAPPS_BACKEND=local", ex.Message);
        Assert.Equal(2, ex.Tried.Count);
    }

    [Fact]
    public void TheDefaultLaunchCommandIsFluxStartWithTheInitialProgram()
    {
        string cmd = FluxInstance.ExpandLaunchCommand(null, "/opt/flux/bin/flux");
        Assert.StartsWith("/opt/flux/bin/flux start sh -c '", cmd);
        Assert.Contains("FLUXAPPS_URI", cmd);
        Assert.EndsWith("exec cat >/dev/null'", cmd);
    }

    [Fact]
    public void ALaunchCommandTemplateWrapsFluxStart()
    {
        string cmd = FluxInstance.ExpandLaunchCommand("srun -N4 --ntasks-per-node=1 {flux} start -o,-Slog-stderr-level=1 {program}", "/my flux/bin/flux");
        Assert.StartsWith("srun -N4 --ntasks-per-node=1 '/my flux/bin/flux' start -o,-Slog-stderr-level=1 sh -c '", cmd);
    }

    [Fact]
    public void ALaunchCommandWithoutTheProgramIsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => FluxInstance.ExpandLaunchCommand("srun flux start", "flux"));
        Assert.Contains("{program}", ex.Message);
    }

    [Theory]
    [InlineData("flux", "flux")]
    [InlineData("/opt/flux/bin/flux", "/opt/flux/bin/flux")]
    [InlineData("a b", "'a b'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("", "''")]
    public void ShellQuoting(string word, string quoted) => Assert.Equal(quoted, FluxInstance.ShellQuote(word));

    [Theory]
    [InlineData("local:///tmp/flux-x/local-0", "node7", "node7", "local:///tmp/flux-x/local-0")]
    [InlineData("local:///tmp/flux-x/local-0", "node7.cluster", "node7", "local:///tmp/flux-x/local-0")]
    [InlineData("local:///tmp/flux-x/local-0", "node8", "login1", "ssh://node8/tmp/flux-x/local-0")]
    [InlineData("ssh://node8/tmp/x", "node8", "login1", "ssh://node8/tmp/x")]
    public void TheClientUriReachesARemoteRankZeroThroughSsh(string local, string brokerHost, string thisHost, string expected) =>
        Assert.Equal(expected, FluxInstance.ClientUri(local, brokerHost, thisHost));

    [Fact]
    public void ExplicitBackendsAreKept()
    {
        Assert.Equal(FluxBackend.Local, BackendSelection.Choose(new FluxAppsOptions { Backend = FluxBackend.Local, FluxUri = "local:///x" }));
        Assert.Equal(FluxBackend.Flux, BackendSelection.Choose(new FluxAppsOptions { Backend = FluxBackend.Flux }));
    }

    [Fact]
    public void AutoChoosesFluxForAUriThenForFluxOnPathElseLocal()
    {
        using var env = new EnvironmentScope("FLUXAPPS_BACKEND", null, "FLUX_URI", null);
        Assert.Equal(FluxBackend.Flux, BackendSelection.Choose(new FluxAppsOptions { FluxUri = "local:///tmp/x" }));
        Environment.SetEnvironmentVariable("FLUX_URI", "local:///tmp/y");
        Assert.Equal(FluxBackend.Flux, BackendSelection.Choose(new FluxAppsOptions()));
        Environment.SetEnvironmentVariable("FLUX_URI", null);
        var expected = FluxLibrary.FindFluxOnPath() is null ? FluxBackend.Local : FluxBackend.Flux;
        Assert.Equal(expected, BackendSelection.Choose(new FluxAppsOptions()));
        Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", "local");
        Assert.Equal(FluxBackend.Local, BackendSelection.Choose(new FluxAppsOptions { FluxUri = "local:///tmp/x" }));
        Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", "flux");
        Assert.Equal(FluxBackend.Flux, BackendSelection.Choose(new FluxAppsOptions()));
    }

    [Fact]
    public void WithoutFluxOnPathAutoIsLocal()
    {
        using var env = new EnvironmentScope("FLUXAPPS_BACKEND", null, "FLUX_URI", null, "PATH", "/nonexistent-bin");
        Assert.Equal(FluxBackend.Local, BackendSelection.Choose(new FluxAppsOptions()));
    }

    [SkippableFact]
    public async Task FluxWithNothingToConnectToAndNoFluxOnPathSaysSo()
    {
        FluxAvailability.SkipIfAbsent(); // needs the library itself
        using var env = new EnvironmentScope("FLUX_URI", null, "PATH", "/nonexistent-bin");
        var ex = await Assert.ThrowsAsync<FluxConnectionException>(() =>
            FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, WorkingDirectory = TestPaths.WorkRoot }));
        Assert.Contains("no flux on PATH", ex.Message);
    }

    [SkippableFact]
    public async Task AnUnreachableUriFailsAtStartWithTheUri()
    {
        FluxAvailability.SkipIfAbsent();
        var ex = await Assert.ThrowsAsync<FluxConnectionException>(() =>
            FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Flux, FluxUri = "local:///tmp/no-such-flux/local-0", WorkingDirectory = TestPaths.WorkRoot }));
        Assert.Contains("local:///tmp/no-such-flux/local-0", ex.Message);
    }

    [SkippableFact]
    public async Task ABrokenLaunchCommandFailsWithItsOutput()
    {
        FluxAvailability.SkipIfAbsent();
        var ex = await Assert.ThrowsAsync<FluxConnectionException>(() =>
            FluxAppsRuntime.StartAsync(new FluxAppsOptions
            {
                Backend = FluxBackend.Flux,
                FluxLaunchCommand = "echo launcher-was-here >&2; exit 7; {program}",
                WorkingDirectory = TestPaths.WorkRoot,
            }));
        Assert.Contains("exited with code 7", ex.Message);
        Assert.Contains("launcher-was-here", ex.Message);
    }

    [Fact]
    public async Task BadShellOptionsFailAtStart()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => FluxAppsRuntime.StartAsync(new FluxAppsOptions
        {
            Backend = FluxBackend.Flux,
            FluxShellOptions = new Dictionary<string, string?> { ["a..b"] = "1" },
            WorkingDirectory = TestPaths.WorkRoot,
        }));
        Assert.Contains("a..b", ex.Message);
    }
}

/// <summary>Sets environment variables for a test and puts them back after.</summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly List<(string Name, string? Value)> _saved = new();

    public EnvironmentScope(params string?[] nameValuePairs)
    {
        for (int i = 0; i < nameValuePairs.Length; i += 2)
        {
            string name = nameValuePairs[i]!;
            _saved.Add((name, Environment.GetEnvironmentVariable(name)));
            Environment.SetEnvironmentVariable(name, nameValuePairs[i + 1]);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }
}
