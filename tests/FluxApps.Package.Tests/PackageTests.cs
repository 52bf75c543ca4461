using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace FluxApps.Package.Tests;

/// <summary>
/// Packs src/FluxApps and builds projects outside the repository that reference only the package,
/// as a new user would: the generator, analyzers and runtime must all come from the one package.
/// </summary>
public sealed class PackageTests(ITestOutputHelper output) : IClassFixture<PackedFeed>
{
    [Fact]
    public void PackageCarriesRuntimeGeneratorAndAnalyzers()
    {
        using var zip = ZipFile.OpenRead(PackedFeed.Package);
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("lib/net10.0/FluxApps.dll", entries);
        Assert.Contains("lib/net10.0/FluxApps.xml", entries);
        Assert.Contains("analyzers/dotnet/cs/FluxApps.Generators.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/FluxApps.Analyzers.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/FluxApps.Analyzers.CodeFixes.dll", entries);
    }

    [Fact]
    public void PackTakesTheAnalyzersFromTheBuildsOwnOutputPaths()
    {
        // Another configuration and an artifacts path: the generator and analyzers are packed from where
        // that build put them, not from a fixed bin/<configuration>/ under the repository.
        string artifacts = Path.Combine(PackedFeed.Root, "artifacts");
        string feed = Path.Combine(PackedFeed.Root, "feed-artifacts");
        var (code, text) = PackedFeed.Dotnet(PackedFeed.RepoRoot(), "pack", "src/FluxApps/FluxApps.csproj", "-c", "Debug",
            "--artifacts-path", artifacts, "-o", feed);
        Assert.True(code == 0, "dotnet pack failed:\n" + text);
        using var zip = ZipFile.OpenRead(Path.Combine(feed, "FluxApps.0.1.0.nupkg"));
        foreach (string name in new[] { "FluxApps.Generators", "FluxApps.Analyzers", "FluxApps.Analyzers.CodeFixes" })
        {
            var entry = zip.GetEntry($"analyzers/dotnet/cs/{name}.dll");
            Assert.NotNull(entry);
            string built = Path.Combine(artifacts, "bin", name, "debug", name + ".dll");
            Assert.True(File.Exists(built), "not built under the artifacts path: " + built);
            using var packed = new MemoryStream();
            using (var stream = entry.Open()) stream.CopyTo(packed);
            Assert.Equal(File.ReadAllBytes(built), packed.ToArray());
        }
    }

    [Fact]
    public void ConsumersCompileAgainstAnIlOnlyReferenceAssembly()
    {
        // lib/ may hold the ReadyToRun FluxApps.dll, marked for one processor; a consumer built for a
        // runtime identifier compiles against ref/, which must be IL for any processor (else CS8012).
        using var zip = ZipFile.OpenRead(PackedFeed.Package);
        var reference = zip.GetEntry("ref/net10.0/FluxApps.dll");
        Assert.NotNull(reference);
        Assert.NotNull(zip.GetEntry("ref/net10.0/FluxApps.xml")); // IntelliSense reads the docs beside the compile asset
        using var copy = new MemoryStream();
        using (var stream = reference.Open()) stream.CopyTo(copy);
        copy.Position = 0;
        using var pe = new PEReader(copy);
        Assert.Equal(Machine.I386, pe.PEHeaders.CoffHeader.Machine);
        Assert.True(pe.PEHeaders.CorHeader!.Flags.HasFlag(CorFlags.ILOnly));
        Assert.False(pe.PEHeaders.CorHeader.Flags.HasFlag(CorFlags.Requires32Bit));
    }

    [Fact]
    public void PackageHasReadmeMetadataAndSymbols()
    {
        using var zip = ZipFile.OpenRead(PackedFeed.Package);
        var nuspecEntry = zip.Entries.Single(e => e.FullName == "FluxApps.nuspec");
        XDocument nuspec;
        using (var stream = nuspecEntry.Open()) nuspec = XDocument.Load(stream);
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        string readme = Field("readme");
        Assert.False(string.IsNullOrEmpty(readme), "the nuspec names no readme");
        var readmeEntry = zip.GetEntry(readme);
        Assert.NotNull(readmeEntry);
        using (var reader = new StreamReader(readmeEntry.Open()))
            Assert.Contains("[FluxApp", reader.ReadToEnd());
        Assert.Contains("flux", Field("tags").Split(' '));
        Assert.Contains("Flux", Field("description"));
        Assert.Equal("MIT", Field("license"));
        var repository = metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository");
        Assert.NotNull(repository);
        Assert.Equal("git", repository.Attribute("type")?.Value);

        // The symbols package sits beside the package, with the PDB of the assembly in lib/.
        string symbols = Path.ChangeExtension(PackedFeed.Package, ".snupkg");
        Assert.True(File.Exists(symbols), "no symbols package: " + symbols);
        using var symbolsZip = ZipFile.OpenRead(symbols);
        Assert.Contains("lib/net10.0/FluxApps.pdb", symbolsZip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void DotnetFormatAppliesThePackagedCodeFixesToAWholeProject()
    {
        // `dotnet format analyzers` fixes through each fix's Fix All: without one it refuses the id.
        string dir = PackedFeed.NewConsumer("Format", """
            using FluxApps;
            System.Console.WriteLine(await Lab.AddAsync(1, 2));
            public partial class Lab
            {
                [FluxApp] public int Add(int a, int b) => a + b;
                [FluxApp] public int Twice(int a) => a * 2;
                public int Both() => this.Add(1, 2) + this.Twice(3);
            }
            static class Outer
            {
                public static class Inner { [FluxApp] public static int One() => 1; }
            }
            """);
        var (restoreCode, restoreText) = PackedFeed.Dotnet(dir, "restore");
        Assert.True(restoreCode == 0, restoreText);
        var (code, text) = PackedFeed.Dotnet(dir, "format", "analyzers", "--diagnostics", "FLUX001", "FLUX002", "--severity", "error");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        string fixedSource = File.ReadAllText(Path.Combine(dir, "Program.cs"));
        output.WriteLine(fixedSource);
        Assert.Contains("[FluxApp] public static int Add(int a, int b)", fixedSource);
        Assert.Contains("[FluxApp] public static int Twice(int a)", fixedSource);
        Assert.Contains("public int Both() => Add(1, 2) + Twice(3);", fixedSource);
        Assert.Contains("static partial class Outer", fixedSource);
        Assert.Contains("public static partial class Inner", fixedSource);
        var (buildCode, buildText) = PackedFeed.Dotnet(dir, "build", "-c", "Release");
        Assert.True(buildCode == 0, buildText);
    }

    [SkippableFact]
    public void NativeAotConsumerWithWarningsAsErrorsPublishesAndRuns()
    {
        // NativeAOT links with a C toolchain: clang, or gcc as the SDK's fallback.
        Skip.If(FindOnPath("clang") is null && FindOnPath("gcc") is null,
            "NativeAOT needs clang or gcc on PATH to link, and neither is installed");
        string rid = RuntimeInformation.RuntimeIdentifier;
        string dir = PackedFeed.NewConsumer("AotConsumer", AotProgram);
        string outDir = Path.Combine(dir, "out");
        var (code, text) = PackedFeed.Dotnet(dir, "publish", "-r", rid, "-p:PublishAot=true", "-p:TreatWarningsAsErrors=true", "-o", outDir);
        output.WriteLine(text);
        Assert.True(code == 0, text);

        string program = Path.Combine(outDir, "AotConsumer");
        var (runCode, runText) = PackedFeed.Run(program, dir);
        output.WriteLine(runText);
        Assert.True(runCode == 0, runText);
        Assert.Contains("add=5", runText);
        Assert.Contains("remote=System.InvalidOperationException:bad input 7", runText);
        // The published program is its own worker: the app ran in the native executable, not under dotnet.
        Assert.Contains("worker=" + Path.GetFullPath(program), runText);
        Assert.Contains("done", runText);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private const string AotProgram = """
        using System;
        using FluxApps;

        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local });
        Console.WriteLine("add=" + await Apps.AddAsync(2, 3));
        try { await Apps.FailAsync(7); }
        catch (FluxAppException e) { Console.WriteLine("remote=" + e.RemoteType + ":" + e.RemoteMessage); }
        Console.WriteLine("worker=" + await Apps.WorkerAsync());
        Console.WriteLine("done");

        public static partial class Apps
        {
            [FluxApp] public static int Add(int a, int b) => a + b;
            [FluxApp] public static int Fail(int x) => throw new InvalidOperationException("bad input " + x);
            [FluxApp] public static string Worker() => Environment.ProcessPath ?? "?";
        }
        """;

    [Fact]
    public void ConsumerProjectGetsStubsWorkersAndErrorsFromThePackage()
    {
        string dir = PackedFeed.NewConsumer("Consumer", ConsumerProgram);
        var (code, text) = PackedFeed.Dotnet(dir, "run", "-c", "Release");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("add=5", text);
        Assert.Contains("remote=System.InvalidOperationException:bad input 7", text);
        Assert.Contains("ranks=0/2,1/2", text);
        Assert.Contains("rejected=Rejected", text);
        Assert.Contains("argument=Cpus", text);
        Assert.Contains("record=Point { X = 1.5, Y = -2 }|3", text);
        Assert.Contains("library=from the library: x", text);
        Assert.Contains("cancelled=True", text);
        Assert.Contains("exit=Exited:4", text);
        Assert.Contains("done", text);
    }

    [Fact]
    public void BuildOnlyAnalyzersAreNoDependencyOfThePackages()
    {
        // The public API analyzer checks this repository's builds (PrivateAssets="all"): consumers must not inherit it.
        foreach (var (package, id) in new[] { (PackedFeed.Package, "FluxApps"), (PackedFeed.HostingPackage, "FluxApps.Hosting") })
        {
            using var zip = ZipFile.OpenRead(package);
            XDocument nuspec;
            using (var stream = zip.GetEntry(id + ".nuspec")!.Open()) nuspec = XDocument.Load(stream);
            var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string?)e.Attribute("id") ?? "");
            Assert.DoesNotContain("Microsoft.CodeAnalysis.PublicApiAnalyzers", dependencies);
        }
    }

    [Fact]
    public void HostingPackageAloneGivesAHostedRuntimeTheGeneratorAndBinding()
    {
        using (var zip = ZipFile.OpenRead(PackedFeed.HostingPackage))
        {
            Assert.NotNull(zip.GetEntry("lib/net10.0/FluxApps.Hosting.dll"));
            Assert.NotNull(zip.GetEntry("PACKAGE.md"));
            XDocument nuspec;
            using (var stream = zip.GetEntry("FluxApps.Hosting.nuspec")!.Open()) nuspec = XDocument.Load(stream);
            var fluxApps = nuspec.Descendants().Single(e => e.Name.LocalName == "dependency" && (string?)e.Attribute("id") == "FluxApps");
            // The dependency must not exclude analyzers, or a project referencing only FluxApps.Hosting gets no stubs.
            Assert.DoesNotContain("Analyzers", (string?)fluxApps.Attribute("exclude") ?? "");
        }
        // Only FluxApps.Hosting (and the host itself) referenced: FluxApps, its generator and analyzers come with it.
        string dir = PackedFeed.NewConsumer("HostedConsumer", HostedProgram,
            extra: "<PackageReference Include=\"Microsoft.Extensions.Hosting\" Version=\"10.0.0\" />", package: "FluxApps.Hosting");
        var (code, text) = PackedFeed.Dotnet(dir, "run", "-c", "Release", "--", "--FluxApps:Backend=Local", "--FluxApps:LocalCores=2");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("backend=Local cores=2 pin=False", text);
        Assert.Contains("default=True", text);
        Assert.Contains("add=5", text);
        Assert.Contains("disposed=True", text);
        Assert.Contains("done", text);
    }

    private const string HostedProgram = """
        using FluxApps;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;

        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddFluxApps(o => o.PinWorkers = false);
        using var host = builder.Build();
        await host.StartAsync();
        var runtime = host.Services.GetRequiredService<FluxAppsRuntime>();
        Console.WriteLine($"backend={runtime.Backend} cores={runtime.Options.LocalCores} pin={runtime.Options.PinWorkers}");
        Console.WriteLine("default=" + ReferenceEquals(runtime, FluxAppsRuntime.Default));
        Console.WriteLine("add=" + await Apps.AddAsync(2, 3));
        await host.StopAsync();
        Console.WriteLine("disposed=" + !Directory.Exists(runtime.WorkingDirectory));
        Console.WriteLine("done");

        public static partial class Apps
        {
            [FluxApp] public static int Add(int a, int b) => a + b;
        }
        """;

    [Fact]
    public void HostedConsumerGetsLogsTracesMetricsEventsPoolsAndDryRunsWithTheOpenTelemetrySdk()
    {
        // As a user would wire it: the host's logging, OpenTelemetry's SDK with its in-memory exporters, and pools from configuration.
        string dir = PackedFeed.NewConsumer("TelemetryConsumer", TelemetryProgram,
            extra: "<PackageReference Include=\"Microsoft.Extensions.Hosting\" Version=\"10.0.0\" />"
                + "<PackageReference Include=\"OpenTelemetry.Extensions.Hosting\" Version=\"1.20.1\" />"
                + "<PackageReference Include=\"OpenTelemetry.Exporter.InMemory\" Version=\"1.20.1\" />",
            package: "FluxApps.Hosting");
        var (code, text) = PackedFeed.Dotnet(dir, "run", "-c", "Release", "--", "--FluxApps:Backend=Local", "--FluxApps:LocalCores=2",
            "--FluxApps:Pools:fast:MaxWorkers=1", "--Logging:LogLevel:FluxApps=Debug");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("add=5 pooled=7", text);
        Assert.Contains("traced=True,True", text); // both calls' apps ran in the caller's trace, under their call's span
        Assert.Contains("spans=TelemetryApps.Add:succeeded,TelemetryApps.Add:succeeded", text);
        Assert.Contains("completed=2 submitted=2", text);
        Assert.Contains("events=Submitted..Completed,Submitted..Completed", text);
        Assert.Contains("same-worker=True", text);
        Assert.Contains("dryrun=2 True True True", text); // the jobspec of a call, described and not run
        Assert.Matches(@"FluxApps\[1\].*runtime started on the Local backend", text.Replace("\n", " "));
        Assert.Contains("FluxApps[20]", text); // a pool worker up, at Information
        Assert.Contains("done", text);
    }

    private const string TelemetryProgram = """
        using System.Diagnostics;
        using FluxApps;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using OpenTelemetry.Metrics;
        using OpenTelemetry.Trace;

        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddFluxApps();
        builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(FluxAppsTelemetry.ActivitySourceName, "Consumer").AddInMemoryExporter(spans))
            .WithMetrics(m => m.AddMeter(FluxAppsTelemetry.MeterName).AddInMemoryExporter(metrics));
        using var host = builder.Build();
        await host.StartAsync();
        var runtime = host.Services.GetRequiredService<FluxAppsRuntime>();
        var events = runtime.WatchEventsAsync();

        var source = new ActivitySource("Consumer");
        string add, pooled;
        FluxFuture<string> own, inPool;
        using (var caller = source.StartActivity("caller")!)
        {
            own = TelemetryApps.AddAsync(2, 3);
            inPool = TelemetryApps.AddAsync(3, 4, new FluxCallOptions { Pool = "fast" });
            add = await own;
            pooled = await inPool;
            string Check(string seen, FluxFuture call)
            {
                var parts = seen.Split(' ');
                var span = spans.Single(s => (string?)s.GetTagItem("fluxapps.job.id") == call.JobId.ToString() && s.Source.Name == "FluxApps");
                return (parts[1] == caller.TraceId.ToString() && parts[2] == span.SpanId.ToString()).ToString();
            }
            Console.WriteLine($"add={add.Split(' ')[0]} pooled={pooled.Split(' ')[0]}");
            Console.WriteLine($"traced={Check(add, own)},{Check(pooled, inPool)}");
        }
        var second = TelemetryApps.AddAsync(0, 0, new FluxCallOptions { Pool = "fast" });
        await second;
        Console.WriteLine("same-worker=" + (second.JobId == inPool.JobId));
        Console.WriteLine("spans=" + string.Join(",", spans.Where(s => s.Source.Name == "FluxApps").Take(2).Select(s => $"{s.DisplayName}:{s.GetTagItem("fluxapps.outcome")}")));
        host.Services.GetRequiredService<MeterProvider>().ForceFlush();
        long Sum(string name) => metrics.Where(m => m.Name == name).Sum(m => { long t = 0; foreach (ref readonly var p in m.GetMetricPoints()) t = Math.Max(t, p.GetSumLong()); return t; });
        Console.WriteLine($"completed={Math.Min(2, Sum("fluxapps.calls.completed"))} submitted={Math.Min(2, Sum("fluxapps.calls.submitted"))}");
        await host.StopAsync();
        var byCall = new Dictionary<FluxFuture, List<FluxCallEventKind>>();
        await foreach (var e in events) (byCall.TryGetValue(e.Call, out var l) ? l : byCall[e.Call] = new()).Add(e.Kind);
        Console.WriteLine("events=" + string.Join(",", new FluxFuture[] { own, inPool }.Select(c => $"{byCall[c][0]}..{byCall[c][^1]}")));
        var described = FluxDryRun.Describe(() => TelemetryApps.AddAsync(1, 2, new FluxCallOptions { Cpus = 2, TimeLimit = "5m" }));
        string json = described.ToJson();
        Console.WriteLine($"dryrun={described.Cpus} {json.Contains("\"duration\": 300")} {described.ToYaml().Contains("duration: 300")} {described.CommandLine.Count > 0}");
        Console.WriteLine("done");

        public static partial class TelemetryApps
        {
            [FluxApp]
            public static string Add(int a, int b) => $"{a + b} {Activity.Current?.TraceId} {Activity.Current?.ParentSpanId}";
        }
        """;

    [Fact]
    public void InvalidAppInAConsumerIsACompileErrorFromThePackagedAnalyzer()
    {
        string dir = PackedFeed.NewConsumer("Invalid", """
            using FluxApps;
            public static partial class Bad
            {
                [FluxApp(Cpus = 0)]
                public static int Zero() => 0;
            }
            public static class Program { public static void Main() { } }
            """);
        var (code, text) = PackedFeed.Dotnet(dir, "build", "-c", "Release");
        output.WriteLine(text);
        Assert.NotEqual(0, code);
        Assert.Contains("FLUX003", text);
        Assert.Contains("Cpus = 0", text);
        Assert.DoesNotContain("error CS", text); // no cascade from generated code
    }

    private const string ConsumerProgram = """
        using System;
        using System.Threading;
        using FluxApps;

        await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local });
        Console.WriteLine("add=" + await Apps.AddAsync(2, 3));
        try { await Apps.FailAsync(7); }
        catch (FluxAppException e) { Console.WriteLine("remote=" + e.RemoteType + ":" + e.RemoteMessage); }
        Console.WriteLine("ranks=" + await Apps.RanksAsync());
        try { await Apps.HugeAsync(); }
        catch (FluxJobException e) { Console.WriteLine("rejected=" + e.Kind); }
        int zero = int.Parse("0"); // a constant 0 would be compile error FLUX003
        try { _ = Apps.AddAsync(1, 2, new FluxCallOptions { Cpus = zero }); }
        catch (ArgumentException e) { Console.WriteLine("argument=" + e.ParamName); }
        var (p, n) = await Apps.EchoAsync(new Point(1.5, -2), 3);
        Console.WriteLine("record=" + p + "|" + n);
        Console.WriteLine("library=" + await Library.Lib.HelloAsync("x"));
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            try { await Apps.SleepAsync(60_000, cancellationToken: cts.Token); Console.WriteLine("cancelled=False"); }
            catch (OperationCanceledException) { Console.WriteLine("cancelled=True"); }
        }
        try { await Apps.ExitAsync(4); }
        catch (FluxJobException e) { Console.WriteLine("exit=" + e.Kind + ":" + e.ExitCode); }
        Console.WriteLine("done");

        public record Point(double X, double Y);

        public static partial class Apps
        {
            [FluxApp] public static int Add(int a, int b) => a + b;
            [FluxApp] public static int Fail(int x) => throw new InvalidOperationException("bad input " + x);
            [FluxApp(MpiRanks = 2)] public static string Ranks()
            {
                var c = FluxAppContext.Current;
                System.IO.File.WriteAllText($"rank{c.Rank}.txt", $"{c.Rank}/{c.Size}");
                // Rank 0 waits for every rank's file: all ranks run at once.
                for (int i = 0; i < 200 && !System.Linq.Enumerable.Range(0, c.Size).All(r => System.IO.File.Exists($"rank{r}.txt")); i++) Thread.Sleep(50);
                return string.Join(",", System.Linq.Enumerable.Range(0, c.Size).Select(r => System.IO.File.Exists($"rank{r}.txt") ? System.IO.File.ReadAllText($"rank{r}.txt") : "?"));
            }
            [FluxApp(Cpus = 100000)] public static int Huge() => 0;
            [FluxApp] public static (Point, int) Echo(Point p, int n) => (p, n);
            [FluxApp] public static int Sleep(int ms) { Thread.Sleep(ms); return ms; }
            [FluxApp] public static int Exit(int code) { Environment.Exit(code); return 0; }
        }
        """;
}

/// <summary>Packs the package once for the test class, into a private feed and package cache.</summary>
public sealed class PackedFeed : IDisposable
{
    public static readonly string Root = Path.Combine(Path.GetTempPath(), "fluxapps-package-" + Guid.NewGuid().ToString("N")[..8]);
    public static string Feed => Path.Combine(Root, "feed");
    public static string Package => Path.Combine(Feed, "FluxApps.0.1.0.nupkg");
    public static string HostingPackage => Path.Combine(Feed, "FluxApps.Hosting.0.1.0.nupkg");

    public PackedFeed()
    {
        Directory.CreateDirectory(Feed);
        var (code, text) = Dotnet(RepoRoot(), "pack", "src/FluxApps/FluxApps.csproj", "-c", "Release", "-o", Feed);
        Assert.True(code == 0, "dotnet pack failed:\n" + text);
        // The hosting package, into the same feed (FluxApps is built already: this only adds the small assembly).
        (code, text) = Dotnet(RepoRoot(), "pack", "src/FluxApps.Hosting/FluxApps.Hosting.csproj", "-c", "Release", "-o", Feed);
        Assert.True(code == 0, "dotnet pack of FluxApps.Hosting failed:\n" + text);
        // A class library that consumers reference: apps there must run too.
        string lib = Path.Combine(Root, "Library");
        Directory.CreateDirectory(lib);
        File.WriteAllText(Path.Combine(lib, "Library.csproj"), ProjectFile("Library"));
        File.WriteAllText(Path.Combine(lib, "Lib.cs"), """
            namespace Library;
            public static partial class Lib
            {
                [FluxApps.FluxApp] public static string Hello(string who) => "from the library: " + who;
            }
            """);
    }

    public static string ProjectFile(string name, string extra = "", string package = "FluxApps") => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            {(name == "Library" ? "" : "<OutputType>Exe</OutputType>")}
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <RestoreAdditionalProjectSources>{Feed}</RestoreAdditionalProjectSources>
            <RestorePackagesPath>{Path.Combine(Root, "packages")}</RestorePackagesPath>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="{package}" Version="0.1.0" />
            {extra}
          </ItemGroup>
        </Project>
        """;

    public static string NewConsumer(string name, string program, string extra = "", string package = "FluxApps")
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"),
            ProjectFile(name, name == "Consumer" ? "<ProjectReference Include=\"../Library/Library.csproj\" />" : extra, package));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        return dir;
    }

    public static (int Code, string Output) Dotnet(string workingDirectory, params string[] args) => Run("dotnet", workingDirectory, args);

    public static (int Code, string Output) Run(string program, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        // The repository's build settings must not leak into the outside projects.
        psi.Environment.Remove("MSBuildExtensionsPath");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            p.Kill(entireProcessTree: true);
            return (-1, "timed out: " + program + " " + string.Join(' ', args) + "\n" + stdout.Result + stderr.Result);
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
