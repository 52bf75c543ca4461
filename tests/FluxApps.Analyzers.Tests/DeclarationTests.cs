using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>FLUX001, FLUX002, FLUX007, FLUX009, FLUX020, FLUX021: where an app is declared and what it is.</summary>
public class DeclarationTests
{
    [Fact]
    public Task ValidApps_InEveryKindOfPartialType_AreSilent() => Verify.Diagnostics("""
        using System.Threading.Tasks;
        using FluxApps;

        namespace Lab;

        public static partial class Physics
        {
            [FluxApp(Cpus = 4, Gpus = 1, MpiRanks = 8, Nodes = 2, Exclusive = true, TimeLimit = "2h", Queue = "batch", Urgency = 31, Name = "sim")]
            public static double Simulate(int steps, double dt) => steps * dt;

            [FluxApp] internal static Task Flush() => Task.CompletedTask;
            [FluxApp] private static async Task<int> CountAsync() { await Task.Yield(); return 1; }
            [FluxApp] public static ValueTask<string> Name(string first, string last = "x") => new(first + last);
            [FluxApp] public static void Nothing() { }

            public static partial class Inner
            {
                [FluxApp] public static int Deep(int x) => x;
            }
        }

        public partial struct Vector { [FluxApp] public static int Dot(int a, int b) => a * b; }
        public partial record Result(int Value) { [FluxApp] public static Result Make(int v) => new(v); }
        public partial record struct Pair(int A, int B) { [FluxApp] public static Pair Swap(Pair p) => new(p.B, p.A); }
        public partial interface IWork { [FluxApp] public static int Run(int x) => x; }
        internal partial class Tools { [FluxApp] protected internal static int Helper() => 0; }
        """);

    [Fact]
    public Task InstanceMethod_IsFlux001_OnItsName() => Verify.Diagnostics("""
        using FluxApps;
        public partial class Physics
        {
            [FluxApp] public double {|FLUX001:Simulate|}(int steps) => steps;
            [FluxApp] public static double Fine(int steps) => steps;
            public double NotAnApp(int steps) => steps;
        }
        public partial struct Grid { [FluxApp] public readonly int {|FLUX001:Size|}() => 1; }
        """);

    [Fact]
    public Task Flux001_MessageNamesTheMethod() => Verify.Diagnostics("""
        using FluxApps;
        public partial class Physics
        {
            [FluxApp] public double {|#0:Simulate|}(int steps) => steps;
        }
        """,
        Verify.Diagnostic("FLUX001").WithLocation(0)
            .WithMessage("[FluxApp] method 'Simulate' is not static: an app runs in another process, without an instance; make it static"));

    [Fact]
    public Task NonPartialType_IsFlux002_OnTheTypeName() => Verify.Diagnostics("""
        using FluxApps;
        public static class {|FLUX002:Physics|}
        {
            [FluxApp] public static int Simulate(int steps) => steps;
        }
        public sealed record {|FLUX002:Shape|}(int Sides) { [FluxApp] public static int Count() => 0; }
        public readonly struct {|FLUX002:Point|} { [FluxApp] public static int Origin() => 0; }
        """);

    [Fact]
    public Task NonPartialType_IsReportedOnce_ForAllItsApps() => Verify.Diagnostics("""
        using FluxApps;
        public static class {|#0:Physics|}
        {
            [FluxApp] public static int Simulate(int steps) => steps;
            [FluxApp] public static int Relax(int steps) => steps;
        }
        """,
        Verify.Diagnostic("FLUX002").WithLocation(0)
            .WithMessage("Type 'Physics' is not partial, but the generated stub 'SimulateAsync' of [FluxApp] method 'Simulate' must be added to it; declare it partial"));

    [Fact]
    public Task Flux002_OnAnEnclosingType_SaysWhy() => Verify.Diagnostics("""
        using FluxApps;
        public static class {|#0:Outer|}
        {
            public static partial class Inner { [FluxApp] public static int Deep(int x) => x; }
        }
        """,
        Verify.Diagnostic("FLUX002").WithLocation(0)
            .WithMessage("Type 'Outer' is not partial, but it encloses [FluxApp] method 'Deep', whose generated stub 'DeepAsync' can only be added by reopening it; declare it partial"));

    [Fact]
    public Task NestedTypes_EveryNonPartialLevelIsReported() => Verify.Diagnostics("""
        using FluxApps;
        namespace Lab
        {
            public static class {|FLUX002:Outer|}
            {
                public static partial class Middle
                {
                    public static class {|FLUX002:Inner|}
                    {
                        [FluxApp] public static int Deep(int x) => x;
                    }
                    public static class {|FLUX002:Other|}
                    {
                        [FluxApp] public static int Deeper(int x) => x;
                    }
                }
            }
            public static class NotAroundAnApp
            {
                public static partial class Partial { [FluxApp] public static int Elsewhere() => 0; }
            }
        }
        """.Replace("public static class NotAroundAnApp", "public static class {|FLUX002:NotAroundAnApp|}"));

    [Fact]
    public Task PartialDeclarationsSpreadOverFiles_AreSilent() => Verify.Diagnostics(
        """
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp] public static int Simulate(int steps) => steps + Helper();
        }
        """,
        """
        public static partial class Physics
        {
            private static int Helper() => 1;
            public static partial class Inner { }
        }
        """,
        """
        using FluxApps;
        public static partial class Physics
        {
            public static partial class Inner { [FluxApp] public static int Deep() => 2; }
        }
        """);

    [Fact]
    public Task NestedNonPartialType_InAPartialTypeSpreadOverFiles_IsReportedWhereItIsDeclared() => Verify.Diagnostics(
        """
        public static partial class Physics
        {
            public static int Helper() => 1;
        }
        """,
        """
        using FluxApps;
        public static partial class Physics
        {
            public static class {|FLUX002:Inner|} { [FluxApp] public static int Deep() => 2; }
        }
        """);

    [Fact]
    public Task GenericMethodOrType_IsFlux007() => Verify.Diagnostics("""
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp] public static int {|FLUX007:Identity|}<T>(int x) => x;
        }
        public static partial class Box<T>
        {
            [FluxApp] public static int {|FLUX007:Open|}(int x) => x;
            public static partial class Nested { [FluxApp] public static int {|FLUX007:Inside|}(int x) => x; }
        }
        public static partial class Plain
        {
            public static int NotAnApp<T>(T x) => 0;
            [FluxApp] public static int UsesClosedGenerics(System.Collections.Generic.List<int> xs) => xs.Count;
        }
        """);

    [Fact]
    public Task StubNameTaken_IsFlux009() => Verify.Diagnostics("""
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp] public static int {|FLUX009:Simulate|}(int steps) => steps;
            public static int SimulateAsync(int steps) => steps;

            [FluxApp] public static int {|FLUX009:Relax|}(int steps) => steps;
            public static int RelaxAsync { get; } = 0;

            [FluxApp] public static int {|FLUX009:Solve|}(int n) => n;
            public static int SolveAsync(int n, FluxCallOptions? options) => n;

            [FluxApp] public static int Reserved(int {|FLUX009:__fluxValue|}) => __fluxValue;

            // Both would get Run2Async(int, FluxCallOptions?, CancellationToken): a trailing token is not a stub parameter.
            [FluxApp] public static int {|FLUX009:Run2|}(int n) => n;
            [FluxApp] public static int {|FLUX009:Run2|}(int n, System.Threading.CancellationToken token) => n;
        }
        """);

    [Fact]
    public Task StubNameLookAlikes_AreSilent() => Verify.Diagnostics("""
        using FluxApps;
        public static partial class Physics
        {
            // Another overload: the stub SimulateAsync(int, ...) does not clash with SimulateAsync(string).
            [FluxApp] public static int Simulate(int steps) => steps;
            public static string SimulateAsync(string text) => text;

            // An app whose own name ends in Async gets RunAsyncAsync.
            [FluxApp] public static int RunAsync(int x) => x;

            // A parameter named like the stub's own parameters is renamed in the stub.
            [FluxApp] public static int Configure(int options, int cancellationToken) => options + cancellationToken;

            // Overloaded apps whose arguments differ get distinct stubs.
            [FluxApp] public static int Scale(int n) => n;
            [FluxApp] public static int Scale(long n, System.Threading.CancellationToken token) => (int)n;
            [FluxApp] public static int Scale(int n, int factor) => n * factor;

            // Same name in another type.
            public static partial class Inner { public static int SimulateAsync(int steps) => steps; }
        }
        """);

    [Fact]
    public Task UnreachableContainingType_IsFlux020() => Verify.Diagnostics("""
        using FluxApps;
        public partial class Host
        {
            private static partial class Hidden { [FluxApp] public static int {|FLUX020:Work|}() => 0; }
            protected static partial class Family { [FluxApp] public static int {|FLUX020:Work|}() => 0; }
            private protected static partial class Narrow { [FluxApp] public static int {|FLUX020:Work|}() => 0; }
            internal static partial class Visible { [FluxApp] public static int Work() => 0; }
            protected internal static partial class Wide { [FluxApp] public static int Work() => 0; }
        }
        file static partial class Local { [FluxApp] public static int {|FLUX020:Work|}() => 0; }
        """);

    [Fact]
    public Task NotANamedMethodOfAType_IsFlux021_OnTheAttribute() => Verify.Diagnostics("""
        using System;
        using FluxApps;
        public partial class Host : IComparable<Host>
        {
            public static int Outer()
            {
                [{|FLUX021:FluxApp|}] static int Local() => 1;
                Func<int> lambda = [{|FLUX021:FluxApp|}] () => 2;
                return Local() + lambda();
            }

            [{|FLUX021:FluxApp|}] public static Host operator +(Host a, Host b) => a;

            public static int Property { [{|FLUX021:FluxApp|}] get => 1; }

            [{|FLUX021:FluxApp|}] int IComparable<Host>.CompareTo(Host? other) => 0;
        }
        public static partial class Declared
        {
            [{|FLUX021:FluxApp|}] static partial void NeverImplemented(int x);
            [FluxApp] static partial void Implemented(int x);
            static partial void Implemented(int x) { }
        }
        public partial interface IFactory
        {
            [{|FLUX021:FluxApp|}] static abstract int Create();
            [{|FLUX021:FluxApp|}] static virtual int Default() => 0;
        }
        """);

    [Fact]
    public Task AttributeWrittenInFull_IsTheSameAttribute() => Verify.Diagnostics("""
        public partial class Physics
        {
            [FluxApps.FluxAppAttribute({|FLUX003:Cpus = 0|})] public static int Simulate(int steps) => steps;
            [global::FluxApps.FluxApp] public int {|FLUX001:Relax|}() => 0;
        }
        """);

    [Fact]
    public Task LookAlikeAttributeFromAnotherNamespace_IsIgnored() => Verify.Diagnostics("""
        namespace Other { public sealed class FluxAppAttribute : System.Attribute { public int Cpus { get; set; } } }
        public class Plain
        {
            [Other.FluxApp(Cpus = 0)] public static void M(object o) { }
            [Other.FluxApp] public void Instance() { }
        }
        """);
}
