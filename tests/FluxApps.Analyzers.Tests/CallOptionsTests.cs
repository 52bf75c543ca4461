using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>
/// The resource rules applied to constant per-call overrides, <c>new FluxCallOptions { ... }</c>,
/// alone or, when passed straight to a generated stub, on top of the app's attribute.
/// </summary>
public class CallOptionsTests
{
    /// <summary>An app and the stub the generator would add (the analyzer tests run no generator).</summary>
    private static string WithApp(string attribute, string body, string cluster = "") => $$"""
        using System.Threading;
        using FluxApps;
        {{(cluster.Length == 0 ? "" : $"[assembly: FluxCluster({cluster})]")}}

        public static partial class Physics
        {
            [FluxApp({{attribute}})]
            public static int Simulate(int steps) => steps;

            [System.CodeDom.Compiler.GeneratedCode("FluxApps.Generators", "0.1.0")]
            public static FluxFuture<int> SimulateAsync(int steps, FluxCallOptions? options = null, CancellationToken cancellationToken = default) => null!;

            public static void Other(FluxCallOptions options) { }
        }

        public static class Caller
        {
            public static void Call(int n, bool flag)
            {
                {{body}}
            }
        }
        """;

    private static string Alone(string body, string cluster = "") => WithApp("", body, cluster);

    [Theory]
    [InlineData("Cpus = 1, Gpus = 0, MpiRanks = 1, Nodes = 0, Urgency = 0")]
    [InlineData("Cpus = 64, Gpus = 4, MpiRanks = 512, Nodes = 8, Urgency = 31, Exclusive = true")]
    [InlineData("TimeLimit = \"10m\", Name = \"run-1\", Queue = \"debug\"")]
    [InlineData("Cpus = null, Nodes = null, TimeLimit = null, Name = null")]
    [InlineData("Cpus = n, Gpus = n - 1, MpiRanks = n * 2, Exclusive = flag")]   // decided at run time
    [InlineData("Nodes = 3")]                                                      // MpiRanks unknown here
    [InlineData("Exclusive = true")]                                               // Nodes unknown here
    [InlineData("KeepFiles = true, WorkingDirectory = \"/tmp\"")]
    [InlineData("Retries = 0, Cache = false")]
    [InlineData("Retries = 3, Cache = true")]
    public Task ValidOrUnknownOverrides_AreSilent(string initializer) =>
        Verify.Diagnostics(Alone("var options = new FluxCallOptions { " + initializer + " };"));

    [Theory]
    [InlineData("{|FLUX003:Cpus = 0|}")]
    [InlineData("{|FLUX003:Gpus = -1|}")]
    [InlineData("{|FLUX003:MpiRanks = 0|}")]
    [InlineData("{|FLUX003:Nodes = -1|}")]
    [InlineData("{|FLUX003:Urgency = 99|}")]
    [InlineData("{|FLUX003:Retries = -1|}")]
    [InlineData("{|FLUX008:TimeLimit = \"soon\"|}")]
    [InlineData("{|FLUX022:Name = \"\"|}")]
    [InlineData("{|FLUX022:Queue = \" \"|}")]
    [InlineData("MpiRanks = 2, {|FLUX004:Nodes = 3|}")]
    [InlineData("{|FLUX010:Exclusive = true|}, Nodes = 0")]
    [InlineData("Cpus = 2, {|FLUX003:Gpus = -2|}, Name = \"ok\"")]
    public Task InvalidConstants_AreReported_OnTheAssignment(string initializer) =>
        Verify.Diagnostics(Alone("var options = new FluxCallOptions { " + initializer + " };"));

    [Fact]
    public Task LookAlikeOptionsType_IsIgnored() => Verify.Diagnostics(Alone("""
        var options = new Other.FluxCallOptions { Cpus = 0, TimeLimit = "soon" };
        """) + """
        namespace Other { public sealed class FluxCallOptions { public int? Cpus { get; init; } public string? TimeLimit { get; init; } } }
        """);

    [Fact]
    public Task TargetTypedNew_IsChecked() => Verify.Diagnostics(Alone("FluxCallOptions options = new() { {|FLUX003:Cpus = 0|} };"));

    [Fact]
    public Task Message_SaysItIsAnOverride() => Verify.Diagnostics(Alone("var options = new FluxCallOptions { {|#0:Cpus = 0|} };"),
        Verify.Diagnostic("FLUX003").WithLocation(0).WithMessage("FluxCallOptions: Cpus = 0 is out of range: every rank needs at least 1 core"));

    [Fact]
    public Task PassedToTheStub_TheAttributeFillsIn() => Verify.Diagnostics(
        WithApp("MpiRanks = 2", "Physics.SimulateAsync(n, new FluxCallOptions { {|#0:Nodes = 3|} });"),
        Verify.Diagnostic("FLUX004").WithLocation(0).WithMessage(
            "FluxCallOptions for [FluxApp] method 'Simulate' (on top of its attribute): Nodes = 3 exceeds MpiRanks = 2: every node needs at least one rank"));

    [Fact]
    public Task PassedToTheStubByName_TheAttributeFillsIn() => Verify.Diagnostics(
        WithApp("MpiRanks = 2", "Physics.SimulateAsync(n, options: new() { {|FLUX004:Nodes = 3|} });"));

    [Fact]
    public Task PassedToTheStub_OverridesThatFitTheAttribute_AreSilent() => Verify.Diagnostics(
        WithApp("MpiRanks = 8", "Physics.SimulateAsync(n, new FluxCallOptions { Nodes = 4, Exclusive = true });"));

    [Fact]
    public Task PassedToTheStub_ExclusiveAppLosesItsNodes_IsFlux010() => Verify.Diagnostics(
        WithApp("MpiRanks = 2, Nodes = 2, Exclusive = true", "Physics.SimulateAsync(n, new FluxCallOptions { {|FLUX010:Nodes = 0|} });"));

    [Fact]
    public Task PassedToTheStub_ExclusiveOverrideWithoutNodes_IsFlux010() => Verify.Diagnostics(
        WithApp("MpiRanks = 2", "Physics.SimulateAsync(n, new FluxCallOptions { {|FLUX010:Exclusive = true|} });"));

    [Fact]
    public Task PassedToTheStub_ProblemsOfTheAttributeAlone_AreNotRepeated() => Verify.Diagnostics(
        WithApp("MpiRanks = 2, {|FLUX004:Nodes = 3|}", "Physics.SimulateAsync(n, new FluxCallOptions { Cpus = 2 });"));

    [Fact]
    public Task PassedToAnotherMethod_OrThroughAVariable_OnlyAloneRulesApply() => Verify.Diagnostics(WithApp("MpiRanks = 2", """
        Physics.Other(new FluxCallOptions { Nodes = 3 });
                var options = new FluxCallOptions { Nodes = 3 };
                Physics.SimulateAsync(n, options);
        """));

    [Fact]
    public Task ClusterFit_OfAnOverrideAlone() => Verify.Diagnostics(
        Alone("var options = new FluxCallOptions { {|#0:Cpus = 32|} };", cluster: "CoresPerNode = 16"),
        Verify.Diagnostic("FLUX011").WithLocation(0).WithMessage(
            "FluxCallOptions: cannot fit the declared cluster: Cpus = 32 exceeds the cluster's 16 cores per node: one rank cannot span nodes"));

    [Fact]
    public Task ClusterFit_OfAnOverrideOnTopOfTheAttribute() => Verify.Diagnostics(
        WithApp("MpiRanks = 4, Nodes = 1", "Physics.SimulateAsync(n, new FluxCallOptions { {|#0:Cpus = 8|} });", cluster: "Nodes = 2, CoresPerNode = 16"),
        Verify.Diagnostic("FLUX011").WithLocation(0).WithMessage(
            "FluxCallOptions for [FluxApp] method 'Simulate' (on top of its attribute): cannot fit the declared cluster: MpiRanks = 4 on Nodes = 1 puts 4 ranks of Cpus = 8 on a node: 32 cores, more than the cluster's 16 cores per node"));

    [Fact]
    public Task ClusterFit_UnknownValuesNeverCauseAReport() => Verify.Diagnostics(
        Alone("var options = new FluxCallOptions { MpiRanks = 32, Cpus = n };", cluster: "Nodes = 2, CoresPerNode = 16"));

    [Fact]
    public Task ClusterFit_WholeMachineFromTheOverride() => Verify.Diagnostics(
        Alone("var options = new FluxCallOptions { {|FLUX011:MpiRanks = 33|} };", cluster: "Nodes = 2, CoresPerNode = 16"));

    [Fact]
    public Task ClusterFit_FixingABadAttribute_IsNotReportedAgain() => Verify.Diagnostics(
        WithApp("{|FLUX011:Cpus = 32|}", "Physics.SimulateAsync(n, new FluxCallOptions { Cpus = 8 });", cluster: "CoresPerNode = 16"));
}
