using System.Diagnostics;

namespace FluxApps.TestApps;

/// <summary>Apps that report the trace they run in.</summary>
public static partial class TelemetryApps
{
    /// <summary>
    /// "none" when the app runs without a current activity; otherwise "traceId parentSpanId spanId childParent
    /// traceState", where childParent is the parent span of an activity the app starts itself.
    /// </summary>
    [FluxApp]
    public static string TraceSeen()
    {
        var current = Activity.Current;
        if (current is null) return "none";
        using var own = new Activity("app-own-span").Start();
        return $"{current.TraceId} {current.ParentSpanId} {current.SpanId} {own.ParentSpanId} {current.TraceStateString}";
    }

    /// <summary>Whether this worker process has loaded System.Diagnostics.DiagnosticSource (where Activity lives).</summary>
    [FluxApp]
    public static bool DiagnosticSourceLoaded() =>
        System.Linq.Enumerable.Any(System.AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "System.Diagnostics.DiagnosticSource");

    /// <summary>Throws, so the call fails with the app's exception.</summary>
    [FluxApp]
    public static int Throw(string message) => throw new System.InvalidOperationException(message);

    /// <summary>Sleeps, then returns its argument.</summary>
    [FluxApp]
    public static int SleepThen(int milliseconds, int value)
    {
        System.Threading.Thread.Sleep(milliseconds);
        return value;
    }
}
