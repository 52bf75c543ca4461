using System.Threading.Tasks;
using FluxApps.Analyzers.Tests.Infrastructure;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>FLUX005 and FLUX006: what an app takes and returns, reported on the parameter or the return type.</summary>
public class SignatureTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;
        using FluxApps;

        """;

    [Fact]
    public Task UnsupportedParameters_AreFlux005_OnTheParameter() => Verify.Diagnostics(Usings + """
        public static unsafe partial class Apps
        {
            [FluxApp] public static void ByRef({|FLUX005:ref int x|}) { }
            [FluxApp] public static void Out({|FLUX005:out int x|}) { x = 0; }
            [FluxApp] public static void In({|FLUX005:in int x|}) { }
            [FluxApp] public static void RefReadonly({|FLUX005:ref readonly int x|}) { }
            [FluxApp] public static void Params({|FLUX005:params int[] xs|}) { }
            [FluxApp] public static void ParamsSpan({|FLUX005:params ReadOnlySpan<int> xs|}) { }
            [FluxApp] public static void Pointer({|FLUX005:int* p|}) { }
            [FluxApp] public static void FunctionPointer({|FLUX005:delegate*<int, void> f|}) { }
            [FluxApp] public static void Span({|FLUX005:Span<byte> data|}) { }
            [FluxApp] public static void Scoped({|FLUX005:scoped ReadOnlySpan<char> text|}) { }
            [FluxApp] public static void Callback({|FLUX005:Func<int, int> f|}) { }
            [FluxApp] public static void Mixed(int fine, {|FLUX005:ref int bad|}, string alsoFine) { }
        }
        """);

    [Fact]
    public Task Flux005_MessageNamesTheParameter() => Verify.Diagnostics(Usings + """
        public static partial class Apps
        {
            [FluxApp] public static void Callback({|#0:Action<int> onProgress|}) { }
        }
        """,
        Verify.Diagnostic("FLUX005").WithLocation(0).WithMessage(
            "Parameter 'onProgress' of [FluxApp] method 'Callback' is a delegate (Action<int>): code cannot travel to a job: app arguments are copied to the job, so only plain values are allowed"));

    [Fact]
    public Task ATokenAsTheLastParameter_IsSilent() => Verify.Diagnostics(Usings + """
        public static partial class Apps
        {
            [FluxApp] public static void Spin(CancellationToken token) { }
            [FluxApp] public static Task<int> Search(int depth, string name, CancellationToken cancellationToken) => Task.FromResult(depth);
            [FluxApp(Pool = "p")] public static ValueTask Pooled(double x, CancellationToken token) => default;
        }
        """);

    [Fact]
    public Task ATokenAnywhereButLast_IsFlux005_NamingTheParameter() => Verify.Diagnostics(Usings + """
        public static partial class Apps
        {
            [FluxApp] public static void First({|#0:CancellationToken token|}, int n) { }
            [FluxApp] public static void Two({|#1:CancellationToken a|}, CancellationToken b) { }
            [FluxApp] public static void ByRef({|FLUX005:ref CancellationToken token|}) { }
        }
        """,
        Verify.Diagnostic("FLUX005").WithLocation(0).WithMessage(
            "Parameter 'token' of [FluxApp] method 'First' is a CancellationToken but not the last parameter: a token cannot be copied to the job; the call's own token is passed to an app only as its last parameter, so move 'token' to the end"),
        Verify.Diagnostic("FLUX005").WithLocation(1).WithMessage(
            "Parameter 'a' of [FluxApp] method 'Two' is a CancellationToken but not the last parameter: a token cannot be copied to the job; the call's own token is passed to an app only as its last parameter, so move 'a' to the end"));

    [Fact]
    public Task InvalidWorkerStartupMethods_AreFlux024() => Verify.Diagnostics(Usings + """
        public partial class Setup
        {
            [FluxWorkerStartup] public static void Fine() { }
            [FluxWorkerStartup] internal static Task FineAsync() => Task.CompletedTask;
            [FluxWorkerStartup] public static ValueTask FineValueTask() => default;
            [FluxWorkerStartup] public void {|#0:Instance|}() { }
            [FluxWorkerStartup] public static void {|#1:WithParameter|}(int n) { }
            [FluxWorkerStartup] public static int {|#2:ReturnsInt|}() => 1;
            [FluxWorkerStartup] private static void {|#3:Hidden|}() { }
            [FluxWorkerStartup] public static async void {|#4:AsyncVoid|}() => await Task.Yield();
        }
        """,
        Verify.Diagnostic("FLUX024").WithLocation(0).WithMessage(
            "[FluxWorkerStartup] method 'Instance' is not static (a worker process calls it once, before its first call, without arguments or an instance)"),
        Verify.Diagnostic("FLUX024").WithLocation(1).WithMessage(
            "[FluxWorkerStartup] method 'WithParameter' takes 1 parameter(s) (a worker process calls it once, before its first call, without arguments or an instance)"),
        Verify.Diagnostic("FLUX024").WithLocation(2).WithMessage(
            "[FluxWorkerStartup] method 'ReturnsInt' returns int; return void, Task or ValueTask (a worker process calls it once, before its first call, without arguments or an instance)"),
        Verify.Diagnostic("FLUX024").WithLocation(3).WithMessage(
            "[FluxWorkerStartup] method 'Hidden' is private or protected, so the generated registry cannot call it; make it internal or public (a worker process calls it once, before its first call, without arguments or an instance)"),
        Verify.Diagnostic("FLUX024").WithLocation(4).WithMessage(
            "[FluxWorkerStartup] method 'AsyncVoid' is async void, so the worker cannot wait for it or see its exception; return Task (a worker process calls it once, before its first call, without arguments or an instance)"));

    [Fact]
    public Task SerializableTypes_AreSilent() => Verify.Diagnostics(Usings + """
        using System.Numerics;
        public enum Mode : byte { Fast, Exact }
        public sealed record Sample(string Name, double[] Values, Mode Mode, Sample? Next);
        public readonly record struct Range2(int Start, int End);
        public sealed class Settings { public int Steps { get; set; } public List<string> Tags { get; init; } = new(); public int Computed => Steps * 2; }
        public struct Mutable { public int X; public int Y; }
        public sealed class Tree { public string Label { get; set; } = ""; public List<Tree> Children { get; set; } = new(); }

        public static partial class Apps
        {
            [FluxApp] public static int Primitives(bool a, byte b, sbyte c, short d, ushort e, int f, uint g, long h, ulong i, float j, double k, decimal l, char m, string n) => 0;
            [FluxApp] public static int Times(DateTime a, DateTimeOffset b, TimeSpan c, DateOnly d, TimeOnly e, Guid f) => 0;
            [FluxApp] public static int Numbers(Half a, Int128 b, UInt128 c, Complex d, int? e, Mode f, Mode? g) => 0;
            [FluxApp] public static int Collections(byte[] a, int[][] b, List<string> c, Dictionary<string, List<int>> d, HashSet<Guid> e,
                IReadOnlyList<double> f, IEnumerable<int> g, IList<long> h, ISet<string> i, IReadOnlyDictionary<int, string> j, ICollection<byte> k) => 0;
            [FluxApp] public static int Objects(Sample a, Range2 b, Settings c, Mutable d, Tree e, (int, string) f, (int Count, double Mean) g, KeyValuePair<string, int> h) => 0;
            [FluxApp] public static Sample Returns(Sample s) => s;
            [FluxApp] public static Task<Dictionary<string, Sample>> ReturnsAsync() => Task.FromResult(new Dictionary<string, Sample>());
            [FluxApp] public static ValueTask<int[]> ReturnsValueTask() => new(new int[0]);
            [FluxApp] public static string? Nullable(string? text, Sample? sample) => text;
        }
        """);

    [Fact]
    public Task UnserializableParameters_AreFlux006_OnTheParameter() => Verify.Diagnostics(Usings + """
        using System.Collections.Immutable;
        public interface IShape { }
        public abstract class Base { }
        public sealed class NoUsableConstructor { public NoUsableConstructor(int seed) { } public int Value { get; } }
        public sealed record Wrapper(object Payload);
        public static partial class Host
        {
            private sealed record Secret(int X);
            [FluxApp] private static void UsesSecret({|FLUX006:Secret s|}) { }
        }

        public static partial class Apps
        {
            [FluxApp] public static void Any({|FLUX006:object o|}) { }
            [FluxApp] public static void Dynamic({|FLUX006:dynamic d|}) { }
            [FluxApp] public static void File({|FLUX006:Stream s|}) { }
            [FluxApp] public static void File2({|FLUX006:FileStream s|}) { }
            [FluxApp] public static void Pending({|FLUX006:Task<int> t|}) { }
            [FluxApp] public static void Token({|FLUX006:List<CancellationToken> ct|}) { }
            [FluxApp] public static void Handle({|FLUX006:IntPtr h|}) { }
            [FluxApp] public static void Error({|FLUX006:Exception e|}) { }
            [FluxApp] public static void Reflection({|FLUX006:Type t|}) { }
            [FluxApp] public static void Interface({|FLUX006:IShape s|}) { }
            [FluxApp] public static void Abstract({|FLUX006:Base b|}) { }
            [FluxApp] public static void Matrix({|FLUX006:double[,] m|}) { }
            [FluxApp] public static void Immutable({|FLUX006:ImmutableArray<int> xs|}) { }
            [FluxApp] public static void Queue({|FLUX006:Queue<int> xs|}) { }
            [FluxApp] public static void Constructor({|FLUX006:NoUsableConstructor x|}) { }
            [FluxApp] public static void Nested({|FLUX006:Wrapper w|}) { }
            [FluxApp] public static void InsideACollection({|FLUX006:List<object> xs|}) { }
            [FluxApp] public static void Wide({|FLUX006:(int, int, int, int, int, int, int, int) t|}) { }
        }
        """);

    [Fact]
    public Task TypesWhoseStateWouldBeLost_AreFlux006() => Verify.Diagnostics(Usings + """
        using System.Numerics;
        public sealed class PrivateSet { public int Value { get; private set; } }
        public sealed class Renamed { public Renamed(int seed) { Value = seed; } public int Value { get; } }
        public sealed class ReadOnlyList { public List<int> Items { get; } = new(); }
        public sealed class Counter { private int _count; public void Increment() => _count++; }
        public struct Frozen { public readonly int Value; public int Other; }
        public sealed record Holder(int Id) { public PrivateSet Inner { get; init; } = new(); }
        public static partial class Apps
        {
            [FluxApp] public static void Big({|FLUX006:BigInteger n|}) { }
            [FluxApp] public static void Memory({|FLUX006:ReadOnlyMemory<byte> data|}) { }
            [FluxApp] public static void FromEnd({|FLUX006:Index i|}) { }
            [FluxApp] public static void Private({|FLUX006:PrivateSet p|}) { }
            [FluxApp] public static void Constructor({|FLUX006:Renamed r|}) { }
            [FluxApp] public static void GetOnlyCollection({|FLUX006:ReadOnlyList l|}) { }
            [FluxApp] public static void Hidden({|FLUX006:Counter c|}) { }
            [FluxApp] public static void ReadonlyField({|FLUX006:Frozen f|}) { }
            [FluxApp] public static void Deep({|FLUX006:List<Holder> h|}) { }
            [FluxApp] public static {|FLUX006:BigInteger|} Result() => 0;
        }
        """);

    [Fact]
    public Task LostState_MessageSaysHowToFixIt() => Verify.Diagnostics(Usings + """
        public sealed class Renamed { public Renamed() { } public Renamed(int seed) { Value = seed; } public int Value { get; } }
        public static partial class Apps
        {
            [FluxApp] public static void Run({|#0:Renamed r|}) { }
        }
        """,
        Verify.Diagnostic("FLUX006").WithLocation(0).WithMessage(
            "Parameter 'r' of [FluxApp] method 'Run' cannot be serialized: Renamed.Value can be read but has no public setter and no constructor parameter of that name, so its value would be lost on the way; make it { get; set; } or { get; init; }, or add a constructor parameter 'value'"));

    [Fact]
    public Task StateThatTravels_IsSilent() => Verify.Diagnostics(Usings + """
        public sealed class Particle
        {
            public Particle(int id, double mass) { Id = id; _mass = mass; }
            private readonly double _mass;
            public int Id { get; }
            public double Mass => _mass;
            public double Weight => _mass * 9.81;
        }
        public sealed class Empty { }
        public sealed class Computed { public int Width { get; set; } public int Area => Width * Width; }
        public static partial class Apps
        {
            [FluxApp] public static void Run(Particle p, Empty e, Computed c, Version v, Tuple<int, string> t, KeyValuePair<int, int> kv) { }
        }
        """);

    [Fact]
    public Task Flux006_MessageNamesThePathToTheBadMember() => Verify.Diagnostics(Usings + """
        public sealed record Inner(object Payload);
        public sealed record Outer(string Name, List<Inner> Items);
        public static partial class Apps
        {
            [FluxApp] public static void Run({|#0:Outer data|}) { }
        }
        """,
        Verify.Diagnostic("FLUX006").WithLocation(0).WithMessage(
            "Parameter 'data' of [FluxApp] method 'Run' cannot be serialized: Outer.Items[].Payload: object cannot be serialized: the job must know the concrete type; use a specific type"));

    [Fact]
    public Task UnserializableReturn_IsFlux006_OnTheReturnType() => Verify.Diagnostics(Usings + """
        public static partial class Apps
        {
            [FluxApp] public static {|FLUX006:object|} Any() => 1;
            [FluxApp] public static {|FLUX006:Task<Stream>|} Open() => Task.FromResult<Stream>(Stream.Null);
            [FluxApp] public static {|FLUX006:Func<int>|} Later() => () => 1;
            [FluxApp] public static {|FLUX006:IAsyncEnumerable<int>|} Numbers() => null!;
            [FluxApp] public static {|FLUX006:Task<Task<int>>|} Nested() => Task.FromResult(Task.FromResult(1));
            [FluxApp] public static async {|FLUX006:void|} FireAndForget() { await Task.Yield(); }
        }
        public static partial class Refs
        {
            private static int s_value;
            [FluxApp] public static ref int {|FLUX006:Value|}() => ref s_value;
        }
        """);

    [Fact]
    public Task UnknownTypes_AreLeftToTheCompiler() => Verify.Diagnostics(Usings + """
        public sealed record Half2({|CS0246:Missing|} Value);
        public static partial class Apps
        {
            [FluxApp] public static void Parameter({|CS0246:Undefined|} x) { }
            [FluxApp] public static {|CS0246:Undefined|} Result() => default!;
            [FluxApp] public static void InAList(List<{|CS0246:Undefined|}> xs) { }
            [FluxApp] public static void InAMember(Half2 x) { }
        }
        """);
}
