using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>FLUX003, FLUX004, FLUX008, FLUX010, FLUX022: the values of [FluxApp], reported on the argument.</summary>
public class ResourceTests
{
    private static string App(string arguments) => $$"""
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp({{arguments}})]
            public static int Simulate(int steps) => steps;
        }
        """;

    [Theory]
    [InlineData("Cpus = 1")]
    [InlineData("Cpus = 128")]
    [InlineData("Gpus = 0")]
    [InlineData("Gpus = 8")]
    [InlineData("MpiRanks = 1")]
    [InlineData("MpiRanks = 4096")]
    [InlineData("Nodes = 0")]
    [InlineData("Nodes = 4, MpiRanks = 4")]
    [InlineData("Urgency = 0")]
    [InlineData("Urgency = 31")]
    [InlineData("Exclusive = false")]
    [InlineData("Exclusive = true, Nodes = 1")]
    [InlineData("Name = \"job\", Queue = \"debug\"")]
    [InlineData("Name = null, Queue = null, TimeLimit = null")]
    [InlineData("Cpus = Limits.Cores")]
    [InlineData("Retries = 0")]
    [InlineData("Retries = 5, RetryOnAppException = true, Cache = true")]
    public Task ValuesInRange_AreSilent(string arguments) => Verify.Diagnostics(App(arguments) + "static class Limits { public const int Cores = 2; }");

    [Theory]
    [InlineData("Cpus = 0")]
    [InlineData("Cpus = -1")]
    [InlineData("Gpus = -1")]
    [InlineData("MpiRanks = 0")]
    [InlineData("Nodes = -2")]
    [InlineData("Urgency = -1")]
    [InlineData("Urgency = 32")]
    [InlineData("Cpus = Limits.None")]
    [InlineData("Retries = -1")]
    public Task ValueOutOfRange_IsFlux003_OnTheArgument(string argument) =>
        Verify.Diagnostics(App("Name = \"x\", {|FLUX003:" + argument + "|}") + "static class Limits { public const int None = 0; }");

    [Fact]
    public Task EveryBadValue_IsReported_WithItsValue() => Verify.Diagnostics(App("{|#0:Cpus = 0|}, {|#1:Gpus = -3|}, {|#2:Urgency = 40|}"),
        Verify.Diagnostic("FLUX003").WithLocation(0).WithMessage("Cpus = 0 is out of range: every rank needs at least 1 core"),
        Verify.Diagnostic("FLUX003").WithLocation(1).WithMessage("Gpus = -3 is out of range: GPUs per rank must be 0 or more"),
        Verify.Diagnostic("FLUX003").WithLocation(2).WithMessage("Urgency = 40 is out of range: Flux accepts 0 (hold) to 31 (expedite), default 16"));

    [Fact]
    public Task NegativeRetries_IsFlux003_WithItsValue() => Verify.Diagnostics(App("{|#0:Retries = -2|}"),
        Verify.Diagnostic("FLUX003").WithLocation(0).WithMessage("Retries = -2 is out of range: use 0 (run once) or a positive number of resubmissions"));

    [Theory]
    [InlineData("Pool = \"sweep\"")]
    [InlineData("Pool = \"sweep\", Cpus = 2, Gpus = 1, TimeLimit = \"10s\"")]
    [InlineData("Pool = \"\", MpiRanks = 4")]
    public Task PoolOnASingleTaskApp_IsSilent(string arguments) => Verify.Diagnostics(App(arguments));

    [Fact]
    public Task PoolWithMpiRanks_IsFlux023_OnPool() => Verify.Diagnostics(App("{|#0:Pool = \"sweep\"|}, MpiRanks = 4"),
        Verify.Diagnostic("FLUX023").WithLocation(0).WithMessage("Pool = \"sweep\" cannot run MpiRanks = 4: a pooled call is one task inside a worker; MPI apps run as jobs of their own"));

    [Fact]
    public Task PoolOnACommandApp_IsFlux023() => Verify.Diagnostics("""
        using FluxApps;
        public static partial class Tools
        {
            [FluxApp({|FLUX023:Pool = "sweep"|})]
            public static FluxCommand Convert(string file) => new("convert", file);
        }
        """);

    [Fact]
    public Task MoreNodesThanRanks_IsFlux004_OnNodes() => Verify.Diagnostics(App("MpiRanks = 2, {|#0:Nodes = 3|}"),
        Verify.Diagnostic("FLUX004").WithLocation(0).WithMessage("Nodes = 3 exceeds MpiRanks = 2: every node needs at least one rank"));

    [Fact]
    public Task MoreNodesThanTheDefaultRank_IsFlux004() => Verify.Diagnostics(App("{|FLUX004:Nodes = 2|}"));

    [Fact]
    public Task RanksOutOfRange_IsOnlyFlux003() => Verify.Diagnostics(App("{|FLUX003:MpiRanks = 0|}, Nodes = 2"));

    [Theory]
    [InlineData("90s")]
    [InlineData("10m")]
    [InlineData("2h")]
    [InlineData("1d")]
    [InlineData("500ms")]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData(".5h")]
    [InlineData("1e3s")]
    [InlineData("inf")]
    [InlineData("infinity")]
    public Task FluxStandardDurations_AreSilent(string duration) => Verify.Diagnostics(App($"TimeLimit = \"{duration}\""));

    [Theory]
    [InlineData("")]
    [InlineData("10 minutes")]
    [InlineData("10min")]
    [InlineData("-5s")]
    [InlineData("5x")]
    [InlineData("h")]
    [InlineData("1:00:00")]
    [InlineData("infs")]
    [InlineData("NaN")]
    [InlineData("5S")]
    public Task InvalidDurations_AreFlux008(string duration) => Verify.Diagnostics(App($"{{|FLUX008:TimeLimit = \"{duration}\"|}}"));

    [Fact]
    public Task Flux008_MessageNamesTheText() => Verify.Diagnostics(App("{|#0:TimeLimit = \"10 minutes\"|}"),
        Verify.Diagnostic("FLUX008").WithLocation(0).WithMessage(
            "TimeLimit = \"10 minutes\" is not a Flux Standard Duration: use a number with an optional unit ms, s, m, h or d, such as \"90s\", \"10m\" or \"2h\""));

    [Fact]
    public Task ExclusiveWithoutNodes_IsFlux010_OnExclusive() => Verify.Diagnostics(App("MpiRanks = 4, {|#0:Exclusive = true|}"),
        Verify.Diagnostic("FLUX010").WithLocation(0).WithMessage("Exclusive = true needs Nodes: whole nodes can only be allocated when the node count is set"));

    [Fact]
    public Task ExclusiveWithZeroNodes_IsFlux010() => Verify.Diagnostics(App("{|FLUX010:Exclusive = true|}, Nodes = 0"));

    [Fact]
    public Task ExclusiveWithNegativeNodes_IsOnlyFlux003() => Verify.Diagnostics(App("Exclusive = true, {|FLUX003:Nodes = -1|}"));

    [Theory]
    [InlineData("Name = \"\"")]
    [InlineData("Name = \"  \"")]
    [InlineData("Queue = \"\"")]
    public Task EmptyNameOrQueue_IsFlux022(string argument) => Verify.Diagnostics(App("{|FLUX022:" + argument + "|}"));

    [Fact]
    public Task HalfTypedArgument_ReportsOnlyTheCompilerError() => Verify.Diagnostics("""
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(Cpus = {|CS1525:)|}]
            public static int Simulate(int steps) => steps;

            [FluxApp(Cpus = {|CS0029:"four"|})]
            public static int Relax(int steps) => steps;

            [FluxApp({|CS0246:Cores|} = 4)]
            public static int Solve(int steps) => steps;
        }
        """);
}
