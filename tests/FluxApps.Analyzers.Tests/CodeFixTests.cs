using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using FluxApps.Analyzers.CodeFixes;
using FluxApps.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>The code fixes: each result must compile and be free of the diagnostic it fixed.</summary>
public class CodeFixTests
{
    // ---- every fix: Fix All, which `dotnet format analyzers` needs ----

    [Fact]
    public void EveryCodeFixSupportsFixAllInDocumentProjectAndSolution()
    {
        var providers = typeof(MakeTypesPartialCodeFix).Assembly.GetTypes()
            .Where(t => typeof(CodeFixProvider).IsAssignableFrom(t) && !t.IsAbstract)
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .ToList();
        Assert.Equal(3, providers.Count);
        foreach (var provider in providers)
        {
            var fixAll = provider.GetFixAllProvider();
            Assert.True(fixAll is not null, provider.GetType().Name + " offers no Fix All");
            Assert.Superset(new HashSet<FixAllScope> { FixAllScope.Document, FixAllScope.Project, FixAllScope.Solution },
                fixAll.GetSupportedFixAllScopes().ToHashSet());
        }
    }

    // ---- FLUX002: add partial to the chain ----

    [Fact]
    public Task MakePartial_SimpleType() => Verify.Fix<MakeTypesPartialCodeFix>("""
        using FluxApps;
        public static class {|FLUX002:Physics|}
        {
            [FluxApp] public static int Simulate(int steps) => steps;
        }
        """, """
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp] public static int Simulate(int steps) => steps;
        }
        """);

    [Fact]
    public Task MakePartial_WholeChain_FromAnyReportedLevel() => Verify.Fix<MakeTypesPartialCodeFix>("""
        using FluxApps;
        namespace Lab
        {
            /// <summary>Docs stay where they are.</summary>
            class {|FLUX002:Outer|}
            {
                public partial class Middle
                {
                    internal sealed class {|FLUX002:Inner|}
                    {
                        [FluxApp] public static int Deep(int x) => x;
                    }
                    public class Unrelated { }
                }
            }
        }
        """, """
        using FluxApps;
        namespace Lab
        {
            /// <summary>Docs stay where they are.</summary>
            partial class Outer
            {
                public partial class Middle
                {
                    internal sealed partial class Inner
                    {
                        [FluxApp] public static int Deep(int x) => x;
                    }
                    public class Unrelated { }
                }
            }
        }
        """);

    [Fact]
    public Task MakePartial_OneClickFixesEveryLevel() => new FixTest<MakeTypesPartialCodeFix>
    {
        TestCode = """
            using FluxApps;
            public static class {|FLUX002:Outer|}
            {
                public static class {|FLUX002:Inner|} { [FluxApp] public static int Deep(int x) => x; }
            }
            """,
        FixedCode = """
            using FluxApps;
            public static partial class Outer
            {
                public static partial class Inner { [FluxApp] public static int Deep(int x) => x; }
            }
            """,
        // One application of the first fix leaves nothing for a second one.
        CodeFixTestBehaviors = CodeFixTestBehaviors.FixOne,
        NumberOfIncrementalIterations = 1,
        NumberOfFixAllIterations = 1,
    }.RunAsync();

    [Fact]
    public Task MakePartial_FixAll_MarksSharedOuterTypesOnce() => new FixTest<MakeTypesPartialCodeFix>
    {
        TestState =
        {
            Sources =
            {
                ("/0/Test0.cs", """
                    using FluxApps;
                    static class {|FLUX002:Outer|}
                    {
                        public static class {|FLUX002:A|} { [FluxApp] public static int One() => 1; }
                        public static class {|FLUX002:B|} { [FluxApp] public static int Two() => 2; }
                    }
                    """),
                ("/0/Test1.cs", """
                    using FluxApps;
                    class {|FLUX002:Second|} { [FluxApp] public static int Three() => 3; }
                    """),
            },
        },
        FixedState =
        {
            Sources =
            {
                ("/0/Test0.cs", """
                    using FluxApps;
                    static partial class Outer
                    {
                        public static partial class A { [FluxApp] public static int One() => 1; }
                        public static partial class B { [FluxApp] public static int Two() => 2; }
                    }
                    """),
                ("/0/Test1.cs", """
                    using FluxApps;
                    partial class Second { [FluxApp] public static int Three() => 3; }
                    """),
            },
        },
        // One at a time: the fix on Outer also makes A and B partial; then Second. Fix All: one pass
        // (in a document: one per document).
        NumberOfIncrementalIterations = 2,
        NumberOfFixAllIterations = 1,
        NumberOfFixAllInDocumentIterations = 2,
    }.RunAsync();

    [Fact]
    public Task MakePartial_RecordsAndStructs() => Verify.Fix<MakeTypesPartialCodeFix>("""
        using FluxApps;
        public sealed record {|FLUX002:Shape|}(int Sides) { [FluxApp] public static int Count() => 0; }
        public readonly record struct {|FLUX002:Pair|}(int A) { [FluxApp] public static int One() => 1; }
        [System.Serializable]
        struct {|FLUX002:Point|} { [FluxApp] public static int Origin() => 0; }
        """, """
        using FluxApps;
        public sealed partial record Shape(int Sides) { [FluxApp] public static int Count() => 0; }
        public readonly partial record struct Pair(int A) { [FluxApp] public static int One() => 1; }
        [System.Serializable]
        partial struct Point { [FluxApp] public static int Origin() => 0; }
        """);

    // ---- FLUX001: make the method static ----

    [Fact]
    public Task MakeStatic_WhenTheBodyUsesNoInstanceState() => Verify.Fix<MakeMethodStaticCodeFix>("""
        using System.Threading.Tasks;
        using FluxApps;
        public partial class Physics
        {
            private const int Scale = 2;
            private static int s_calls;

            [FluxApp] public double {|FLUX001:Simulate|}(int steps) => Helper(steps) * Scale + s_calls;
            [FluxApp]
            public async Task<int> {|FLUX001:RunAsync|}(int x)
            {
                await Task.Yield();
                int Local(int y) => y + 1;
                return Local(x);
            }
            [FluxApp] int {|FLUX001:Bare|}() => 1;
            [FluxApp] new internal unsafe int {|FLUX001:Modifiers|}() => 1;

            private static int Helper(int n) => n;
            public int Caller() => this.Bare() + Bare();
        }
        public partial struct Grid { [FluxApp] public readonly int {|FLUX001:Size|}() => 1; }
        """, """
        using System.Threading.Tasks;
        using FluxApps;
        public partial class Physics
        {
            private const int Scale = 2;
            private static int s_calls;

            [FluxApp] public static double Simulate(int steps) => Helper(steps) * Scale + s_calls;
            [FluxApp]
            public static async Task<int> RunAsync(int x)
            {
                await Task.Yield();
                int Local(int y) => y + 1;
                return Local(x);
            }
            [FluxApp] static int Bare() => 1;
            [FluxApp] new internal static unsafe int Modifiers() => 1;

            private static int Helper(int n) => n;
            public int Caller() => Bare() + Bare();
        }
        public partial struct Grid { [FluxApp] public static int Size() => 1; }
        """);

    [Fact]
    public Task MakeStatic_EditsPartialMethodPartsAndCallersInOtherFiles() => new FixTest<MakeMethodStaticCodeFix>
    {
        TestState =
        {
            Sources =
            {
                """
                using FluxApps;
                public partial class Physics
                {
                    [FluxApp] public partial int {|FLUX001:Simulate|}(int steps);
                }
                """,
                """
                public partial class Physics
                {
                    public partial int Simulate(int steps) => steps * 2;
                    public int Twice() => this.Simulate(1) + Simulate(2);
                }
                public static class Elsewhere { public static int Call() => new Physics().Twice(); }
                """,
            },
        },
        FixedState =
        {
            Sources =
            {
                """
                using FluxApps;
                public partial class Physics
                {
                    [FluxApp] public static partial int Simulate(int steps);
                }
                """,
                """
                public partial class Physics
                {
                    public static partial int Simulate(int steps) => steps * 2;
                    public int Twice() => Simulate(1) + Simulate(2);
                }
                public static class Elsewhere { public static int Call() => new Physics().Twice(); }
                """,
            },
        },
    }.RunAsync();

    [Fact]
    public Task MakeStatic_FixAll_AcrossDocumentsLeavesWhatCannotBeStatic() => new FixTest<MakeMethodStaticCodeFix>
    {
        TestState =
        {
            Sources =
            {
                ("/0/Test0.cs", """
                    using FluxApps;
                    public partial class Lab
                    {
                        [FluxApp] public int {|FLUX001:Add|}(int a, int b) => a + b;
                        [FluxApp] public int {|FLUX001:Twice|}(int a) => a * 2;
                        public int Both() => this.Add(1, 2) + this.Twice(3);
                    }
                    """),
                ("/0/Test1.cs", """
                    using FluxApps;
                    public partial class Lab
                    {
                        [FluxApp] public int {|FLUX001:Negate|}(int a) => -a;
                        public int Use() => this.Negate(this.Twice(1));
                    }
                    public partial class Other
                    {
                        private int _state;
                        [FluxApp] public int {|FLUX001:Stateful|}() => _state;
                    }
                    """),
            },
        },
        FixedState =
        {
            // The markup of the fixed code is the diagnostics that remain, FLUX001 on Stateful among them.
            MarkupHandling = MarkupMode.Allow,
            Sources =
            {
                ("/0/Test0.cs", """
                    using FluxApps;
                    public partial class Lab
                    {
                        [FluxApp] public static int Add(int a, int b) => a + b;
                        [FluxApp] public static int Twice(int a) => a * 2;
                        public int Both() => Add(1, 2) + Twice(3);
                    }
                    """),
                ("/0/Test1.cs", """
                    using FluxApps;
                    public partial class Lab
                    {
                        [FluxApp] public static int Negate(int a) => -a;
                        public int Use() => Negate(Twice(1));
                    }
                    public partial class Other
                    {
                        private int _state;
                        [FluxApp] public int {|FLUX001:Stateful|}() => _state;
                    }
                    """),
            },
        },
        // Add, Twice and Negate one at a time, with the this.M callers in both files; Stateful reads a
        // field, so no fix is offered for it and its error stays. Fix All: all three in one pass (in a
        // document: one pass per document, the callers in the other document included).
        NumberOfIncrementalIterations = 3,
        NumberOfFixAllIterations = 1,
        NumberOfFixAllInDocumentIterations = 2,
    }.RunAsync();

    [Fact]
    public Task MakeStatic_NotOffered_WhenTheBodyUsesInstanceState() => Verify.NoFix<MakeMethodStaticCodeFix>("""
        using System;
        using FluxApps;
        public class Base { protected int Shared => 1; }
        public partial class Physics : Base
        {
            private int _steps;
            public int Steps { get; set; }
            public event EventHandler? Done;

            [FluxApp] public int {|FLUX001:Field|}() => _steps;
            [FluxApp] public int {|FLUX001:Property|}() => Steps;
            [FluxApp] public int {|FLUX001:Method|}() => Field();
            [FluxApp] public int {|FLUX001:This|}() => this.GetHashCode();
            [FluxApp] public int {|FLUX001:BaseMember|}() => base.Shared;
            [FluxApp] public int {|FLUX001:Inherited|}() => Shared;
            [FluxApp] public void {|FLUX001:Event|}() => Done?.Invoke(null, EventArgs.Empty);
            [FluxApp] public int {|FLUX001:InLambda|}() { Func<int> f = () => _steps; return f(); }
            [FluxApp] public int {|FLUX001:InLocalFunction|}() { return Local(); int Local() => Steps; }
            [FluxApp] public Physics {|FLUX001:Returned|}() => this;
        }
        """);

    [Fact]
    public Task MakeStatic_NotOffered_WhenItWouldBreakAContractOrACaller() => Verify.NoFix<MakeMethodStaticCodeFix>("""
        using System;
        using FluxApps;
        public interface ICounter { int Count(); }
        public abstract partial class Shape
        {
            [FluxApp] public abstract int {|FLUX001:Sides|}();
            [FluxApp] public virtual int {|FLUX001:Corners|}() => 0;
        }
        public partial class Square : Shape, ICounter
        {
            public override int Sides() => 4;
            [FluxApp] public int {|FLUX001:Count|}() => 1;
            [FluxApp] public int {|FLUX001:Called|}() => 1;
            [FluxApp] public int {|FLUX001:Conditional|}() => 1;
            [FluxApp] public override string {|FLUX001:ToString|}() => "square";
        }
        public static class Callers
        {
            public static int Use(Square s, Square? t) => s.Called() + (t?.Conditional() ?? 0);
        }
        """.Replace("public override int Sides() => 4;", "[FluxApp] public override int {|FLUX001:Sides|}() => 4;"));

    // ---- FLUX010: set Nodes ----

    [Fact]
    public Task SetNodes_AddsNodesOne() => Verify.Fix<SetNodesCodeFix>("""
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(MpiRanks = 4, {|FLUX010:Exclusive = true|})]
            public static int Simulate(int steps) => steps;
            [FluxApp({|FLUX010:Exclusive = true|}, Cpus = 2)]
            public static int Relax(int steps) => steps;
        }
        """, """
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(MpiRanks = 4, Exclusive = true, Nodes = 1)]
            public static int Simulate(int steps) => steps;
            [FluxApp(Exclusive = true, Nodes = 1, Cpus = 2)]
            public static int Relax(int steps) => steps;
        }
        """);

    [Fact]
    public Task SetNodes_ReplacesNodesZero() => Verify.Fix<SetNodesCodeFix>("""
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp({|FLUX010:Exclusive = true|}, Nodes = 0, MpiRanks = 2)]
            public static int Simulate(int steps) => steps;
        }
        """, """
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(Exclusive = true, Nodes = 1, MpiRanks = 2)]
            public static int Simulate(int steps) => steps;
        }
        """);

    [Fact]
    public Task SetNodes_PicksTheFewestNodesThatFitTheCluster() => Verify.Fix<SetNodesCodeFix>("""
        using FluxApps;
        [assembly: FluxCluster(Nodes = 8, CoresPerNode = 16, GpusPerNode = 4)]
        public static partial class Physics
        {
            [FluxApp(Cpus = 4, MpiRanks = 10, {|FLUX010:Exclusive = true|})]
            public static int Simulate(int steps) => steps;
            [FluxApp(Gpus = 1, MpiRanks = 10, {|FLUX010:Exclusive = true|})]
            public static int Train(int steps) => steps;
        }
        """, """
        using FluxApps;
        [assembly: FluxCluster(Nodes = 8, CoresPerNode = 16, GpusPerNode = 4)]
        public static partial class Physics
        {
            [FluxApp(Cpus = 4, MpiRanks = 10, Exclusive = true, Nodes = 3)]
            public static int Simulate(int steps) => steps;
            [FluxApp(Gpus = 1, MpiRanks = 10, Exclusive = true, Nodes = 3)]
            public static int Train(int steps) => steps;
        }
        """);

    [Fact]
    public Task SetNodes_InMultiLineAttributesAndInitializers() => Verify.Fix<SetNodesCodeFix>("""
        using System.Threading;
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(
                MpiRanks = 4,
                {|FLUX010:Exclusive = true|})]
            public static int Simulate(int steps) => steps;

            [FluxApp(MpiRanks = 4)]
            public static int Relax(int steps) => steps;

            [System.CodeDom.Compiler.GeneratedCode("FluxApps.Generators", "0.1.0")]
            public static FluxFuture<int> RelaxAsync(int steps, FluxCallOptions? options = null, CancellationToken cancellationToken = default) => null!;

            public static void Call()
            {
                var single = new FluxCallOptions { {|FLUX010:Exclusive = true|}, Nodes = 0 };
                RelaxAsync(1, new FluxCallOptions
                {
                    Cpus = 2,
                    {|FLUX010:Exclusive = true|},
                    MpiRanks = 4,
                });
                RelaxAsync(2, new FluxCallOptions
                {
                    MpiRanks = 4,
                    {|FLUX010:Exclusive = true|}
                });
            }
        }
        """, """
        using System.Threading;
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(
                MpiRanks = 4,
                Exclusive = true,
                Nodes = 1)]
            public static int Simulate(int steps) => steps;

            [FluxApp(MpiRanks = 4)]
            public static int Relax(int steps) => steps;

            [System.CodeDom.Compiler.GeneratedCode("FluxApps.Generators", "0.1.0")]
            public static FluxFuture<int> RelaxAsync(int steps, FluxCallOptions? options = null, CancellationToken cancellationToken = default) => null!;

            public static void Call()
            {
                var single = new FluxCallOptions { Exclusive = true, Nodes = 1 };
                RelaxAsync(1, new FluxCallOptions
                {
                    Cpus = 2,
                    Exclusive = true,
                    Nodes = 1,
                    MpiRanks = 4,
                });
                RelaxAsync(2, new FluxCallOptions
                {
                    MpiRanks = 4,
                    Exclusive = true,
                    Nodes = 1
                });
            }
        }
        """);

    [Fact]
    public Task SetNodes_OnAnOverrideThatDropsTheNodesOfAnExclusiveApp() => Verify.Fix<SetNodesCodeFix>("""
        using System.Threading;
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(MpiRanks = 2, Nodes = 2, Exclusive = true)]
            public static int Simulate(int steps) => steps;

            [System.CodeDom.Compiler.GeneratedCode("FluxApps.Generators", "0.1.0")]
            public static FluxFuture<int> SimulateAsync(int steps, FluxCallOptions? options = null, CancellationToken cancellationToken = default) => null!;

            public static void Call() => SimulateAsync(1, new FluxCallOptions { {|FLUX010:Nodes = 0|} });
        }
        """, """
        using System.Threading;
        using FluxApps;
        public static partial class Physics
        {
            [FluxApp(MpiRanks = 2, Nodes = 2, Exclusive = true)]
            public static int Simulate(int steps) => steps;

            [System.CodeDom.Compiler.GeneratedCode("FluxApps.Generators", "0.1.0")]
            public static FluxFuture<int> SimulateAsync(int steps, FluxCallOptions? options = null, CancellationToken cancellationToken = default) => null!;

            public static void Call() => SimulateAsync(1, new FluxCallOptions { Nodes = 1 });
        }
        """);
}
