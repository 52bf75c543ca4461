namespace FluxApps.Analyzers.Tests;

/// <summary>
/// Programs the generator-agreement tests run both the analyzers and the real generator over.
/// Each compiles on its own; every [FluxApp] method in them is valid or breaks one rule.
/// </summary>
internal static class Corpus
{
    /// <summary>A valid program that calls its stubs: it must compile once the generator has run.</summary>
    public const string ValidProgram = """
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using FluxApps;

        [assembly: FluxCluster(Nodes = 4, CoresPerNode = 16, GpusPerNode = 2)]

        namespace Lab
        {
            public enum Mode { Fast, Exact }
            public sealed record Sample(string Name, double[] Values, Mode Mode, Sample? Next);
            public sealed class Settings { public int Steps { get; set; } public List<string> Tags { get; init; } = new(); }

            public static partial class Physics
            {
                [FluxApp(Cpus = 4, Gpus = 1, MpiRanks = 8, Nodes = 4, Exclusive = true, TimeLimit = "2h", Urgency = 20, Name = "sim")]
                public static double Simulate(int steps, double dt = 0.01) => steps * dt;

                [FluxApp] internal static Task Flush() => Task.CompletedTask;
                [FluxApp] public static async Task<Sample> MakeAsync(string name, Mode mode) { await Task.Yield(); return new Sample(name, [1, 2], mode, null); }
                [FluxApp] public static ValueTask<Dictionary<string, int>> Count(List<string> words, Settings settings) => new(new Dictionary<string, int>());
                [FluxApp] public static void Nothing((int, string) pair, int? maybe, DateTimeOffset when) { }
                [FluxApp] public static int Options(int options, int cancellationToken) => options + cancellationToken;

                public static partial class Inner
                {
                    [FluxApp(MpiRanks = 2)] public static int Deep(int x) => x;
                }
            }

            public partial struct Vector { [FluxApp] public static int Dot(int[] a, int[] b) => a.Length * b.Length; }
            public partial record Result(int Value) { [FluxApp] public static Result Make(int v) => new(v); }

            public static class Caller
            {
                public static async Task Run()
                {
                    double energy = await Physics.SimulateAsync(1000);
                    await Physics.FlushAsync(new FluxCallOptions { Cpus = 2, TimeLimit = "10m" });
                    Sample s = await Physics.MakeAsyncAsync("a", Mode.Fast);
                    int deep = await Physics.Inner.DeepAsync(3, options: new() { MpiRanks = 2, Nodes = 2 });
                    var r = await Result.MakeAsync(4);
                    _ = (energy, s, deep, r);
                }
            }
        }
        """;

    /// <summary>Programs that compile, each [FluxApp] method valid or breaking one or more rules.</summary>
    public static readonly string[] Mixed =
    [
        """
        using FluxApps;
        public static partial class Resources
        {
            [FluxApp(Cpus = 2)] public static int Valid(int x) => x;
            [FluxApp(Cpus = 0)] public static int NoCores(int x) => x;
            [FluxApp(Gpus = -1)] public static int NegativeGpus(int x) => x;
            [FluxApp(MpiRanks = 0)] public static int NoRanks(int x) => x;
            [FluxApp(Nodes = -1)] public static int NegativeNodes(int x) => x;
            [FluxApp(Urgency = 32)] public static int TooUrgent(int x) => x;
            [FluxApp(MpiRanks = 2, Nodes = 3)] public static int MoreNodes(int x) => x;
            [FluxApp(TimeLimit = "soon")] public static int BadDuration(int x) => x;
            [FluxApp(Exclusive = true)] public static int ExclusiveAlone(int x) => x;
            [FluxApp(Name = "")] public static int NoName(int x) => x;
            [FluxApp(Queue = " ")] public static int NoQueue(int x) => x;
            [FluxApp(Exclusive = true, Nodes = 2, MpiRanks = 2, TimeLimit = "1.5h", Urgency = 0)] public static int AlsoValid(int x) => x;
        }
        """,
        """
        using System;
        using System.IO;
        using System.Threading.Tasks;
        using FluxApps;
        public abstract class Base { }
        public sealed record Holder(object Payload);
        public static partial class Signatures
        {
            [FluxApp] public static void Valid(string s, byte[] data) { }
            [FluxApp] public static void ByRef(ref int x) { }
            [FluxApp] public static void Out(out int x) { x = 0; }
            [FluxApp] public static void Params(params int[] xs) { }
            [FluxApp] public static unsafe void Pointer(int* p) { }
            [FluxApp] public static void Spanned(Span<int> s) { }
            [FluxApp] public static void Callback(Action a) { }
            [FluxApp] public static void Any(object o) { }
            [FluxApp] public static void Streamed(Stream s) { }
            [FluxApp] public static void Abstract(Base b) { }
            [FluxApp] public static void Held(Holder h) { }
            [FluxApp] public static object Returns() => 1;
            [FluxApp] public static async void Fire() { await Task.Yield(); }
            [FluxApp] public static Task<int> AlsoValid() => Task.FromResult(1);
        }
        """,
        """
        using System;
        using FluxApps;
        public partial class Declarations
        {
            [FluxApp] public int Instance() => 1;
            [FluxApp] public static int Generic<T>() => 1;
            [FluxApp] public static int Taken(int x) => x;
            public static int TakenAsync(int x) => x;
            [FluxApp] public static int Reserved(int __fluxValue) => __fluxValue;
            private static partial class Hidden { [FluxApp] public static int Secret() => 1; }
            [FluxApp] public static Declarations operator +(Declarations a, Declarations b) => a;
            public static int Host() { [FluxApp] static int Local() => 1; return Local(); }
            [FluxApp] public static int Valid() => 1;
            [FluxApp] static partial void NoBody(int x);
            [FluxApp] public static partial int BothParts(int x);
            public static partial int BothParts(int x) => x;
        }
        public static class NotPartial { [FluxApp] public static int App() => 1; [FluxApp] public static int Other() => 2; }
        public static class Outer { public static partial class Inner { [FluxApp] public static int App() => 1; } }
        public static partial class Box<T> { [FluxApp] public static int Open() => 1; }
        public partial interface IFactory { [FluxApp] static abstract int Create(); }
        """,
        """
        using FluxApps;
        public static partial class Spread { [FluxApp] public static int First(int x) => x; }
        """ + "\n" + """
        public static partial class Spread { public static partial class Nested { [FluxApp] public static int Second(string s) => s.Length; } }
        """,
    ];
}
