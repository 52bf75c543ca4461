using System.Reflection;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using FluxApps.Runtime;
using FluxApps.Serialization;

namespace FluxApps.Benchmarks;

/// <summary>
/// The in-process cost of one call, without the process: what the stub and runtime do on the
/// caller's side (arguments to payload, resources, envelope) and the decode of the result.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class CallBenchmarks
{
    private byte[] _smallResult = null!;
    private byte[] _largeResult = null!;
    private double[] _values = null!;
    private List<Point> _points = null!;
    private FluxAppDescriptor _nop = null!;
    private FluxAppDescriptor _sum = null!;
    private Action<FluxWriter, double[]> _writeValues = null!;
    private Action<FluxWriter, List<Point>> _writePoints = null!;

    [GlobalSetup]
    public void Setup()
    {
        _values = Enumerable.Range(0, 100_000).Select(i => i * 0.5).ToArray();
        _points = Enumerable.Range(0, 1_000).Select(i => new Point(i, -i, "p" + i)).ToList();
        // The generated descriptors and serializers, found once (their names carry hashes).
        RuntimeHelpers.RunModuleConstructor(typeof(BenchApps).Module.ModuleHandle);
        FluxAppRegistry.TryGet("FluxApps.Benchmarks.BenchApps.Nop(int)", out _nop, out _);
        FluxAppRegistry.TryGet("FluxApps.Benchmarks.BenchApps.Sum(double[], System.Collections.Generic.List<FluxApps.Benchmarks.Point>)", out _sum, out _);
        var serializers = typeof(BenchApps).Assembly.GetType("FluxApps.Generated.FluxAppsSerializers_FluxApps_Benchmarks")!
            .GetMethods(BindingFlags.Public | BindingFlags.Static);
        _writeValues = serializers.Single(m => m.Name.StartsWith("Write_double__", StringComparison.Ordinal)).CreateDelegate<Action<FluxWriter, double[]>>();
        _writePoints = serializers.Single(m => m.Name.StartsWith("Write_System_Collections_Generic_List", StringComparison.Ordinal)).CreateDelegate<Action<FluxWriter, List<Point>>>();
        _smallResult = ResultPayload(w => w.WriteInt32(42));
        _largeResult = ResultPayload(w => w.WriteDouble(123.5));
    }

    private static byte[] ResultPayload(Action<FluxWriter> write)
    {
        var w = Payload.BeginResult();
        write(w);
        return w.ToArray();
    }

    [Benchmark(Description = "small: Nop(int) -> payload + resources + result")]
    public int SmallCall()
    {
        var args = FluxAppInvoker.CreateArgumentWriter();
        args.WriteInt32(7);
        return Complete(_nop, args, _smallResult, static r => r.ReadInt32());
    }

    [Benchmark(Description = "large: Sum(100k doubles, 1k records) -> payload + resources + result")]
    public double LargeCall()
    {
        var args = FluxAppInvoker.CreateArgumentWriter();
        _writeValues(args, _values);
        _writePoints(args, _points);
        return Complete(_sum, args, _largeResult, static r => r.ReadDouble());
    }

    private static T Complete<T>(FluxAppDescriptor app, FluxWriter args, byte[] result, FluxResultReader<T> read)
    {
        var resources = JobResources.Resolve(app, null);
        var payload = Payload.BuildArguments(app, args.WrittenSpan);
        var reader = new FluxReader(result, 6);
        GC.KeepAlive(resources);
        GC.KeepAlive(payload);
        return read(reader);
    }
}
