namespace FluxApps.Benchmarks;

public record Point(double X, double Y, string Label);

public static partial class BenchApps
{
    /// <summary>The trivial app: one int in, one int out.</summary>
    [FluxApp]
    public static int Nop(int x) => x;

    /// <summary>A call with large arguments: 100,000 doubles and a list of records.</summary>
    [FluxApp]
    public static double Sum(double[] values, List<Point> points) => values.Sum() + points.Count;
}
