using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace FluxApps.Telemetry;

/// <summary>
/// The W3C trace context a call's job continues: <c>TRACEPARENT</c> and <c>TRACESTATE</c> in its environment (the names
/// OpenTelemetry uses for environment carriers, so a command app's program can read them too); in the call frame for a
/// pooled call. The worker makes the call's activity from it (<see cref="WorkerActivity"/>).
/// </summary>
internal static class TraceContext
{
    public const string TraceParentVariable = "TRACEPARENT";
    public const string TraceStateVariable = "TRACESTATE";

    /// <summary>The call's environment overrides with its trace context added; the same object when it has none.</summary>
    public static IReadOnlyDictionary<string, string?>? AddTo(IReadOnlyDictionary<string, string?>? environment, FluxFuture future)
    {
        if (future.TraceParent is not { } parent) return environment;
        var withTrace = environment is null ? new Dictionary<string, string?>(2) : new Dictionary<string, string?>(environment);
        withTrace[TraceParentVariable] = parent;
        withTrace[TraceStateVariable] = string.IsNullOrEmpty(future.TraceState) ? null : future.TraceState;
        return withTrace;
    }
}

/// <summary>
/// The call's activity inside the worker: a child of the caller's trace, current while the app runs, so the app's own
/// activities join that trace. Made only when the job carries a trace context; through FluxApps' activity source when
/// the worker listens to it (a <c>[FluxWorkerStartup]</c> method may set up an exporter), else as a bare activity that
/// still carries the trace for the app's own spans.
/// </summary>
internal static class WorkerActivity
{
    // Typed object on purpose: a worker without a trace context must not load System.Diagnostics.DiagnosticSource (each
    // assembly a worker loads costs its start-up about a millisecond), so Activity appears only in the methods that run
    // when there is a trace.

    /// <summary>Starts the call's activity (an <see cref="Activity"/>), or returns null (no trace context, or it does not parse).</summary>
    public static object? Start(string appName, string? traceParent, string? traceState) =>
        string.IsNullOrEmpty(traceParent) ? null : StartTraced(appName, traceParent, traceState);

    /// <summary>Ends the call's activity, if any, with the app's outcome.</summary>
    public static void Stop(object? activity, System.Exception? error)
    {
        if (activity is not null) StopTraced(activity, error);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object? StartTraced(string appName, string traceParent, string? traceState)
    {
        if (!ActivityContext.TryParse(traceParent, traceState, out var parent)) return null;
        var activity = Instruments.Source.HasListeners()
            ? Instruments.Source.StartActivity(appName, ActivityKind.Server, parent)
            : null;
        if (activity is null)
        {
            activity = new Activity(appName);
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            activity.TraceStateString = traceState;
            activity.Start();
        }
        return activity;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StopTraced(object state, System.Exception? error)
    {
        var activity = (Activity)state;
        if (error is not null) activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.Stop();
    }
}
