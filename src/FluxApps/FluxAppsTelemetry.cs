namespace FluxApps;

/// <summary>
/// The names FluxApps' traces and metrics are published under, for OpenTelemetry's
/// <c>AddSource(FluxAppsTelemetry.ActivitySourceName)</c> and <c>AddMeter(FluxAppsTelemetry.MeterName)</c>.
/// </summary>
/// <remarks>
/// Each call is one activity, named after the app (<c>Physics.Simulate</c>), from submission to its outcome, with
/// the app, backend, job id, resources, queue wait, run time, attempts and outcome as tags and the job's events as
/// activity events. The job gets the trace context (<c>TRACEPARENT</c>, <c>TRACESTATE</c> in its environment; in
/// the call frame for pooled calls), so inside the app <see cref="System.Diagnostics.Activity.Current"/> continues
/// the caller's trace and the app's own activities are its children. Metrics: <c>fluxapps.calls.submitted</c>,
/// <c>fluxapps.calls.completed</c> (by outcome), <c>fluxapps.calls.failed</c> (by failure kind),
/// <c>fluxapps.call.queue_wait</c> and <c>fluxapps.call.run_time</c> (seconds), <c>fluxapps.calls.pending</c> and
/// <c>fluxapps.pool.workers</c> (by pool and state: starting, busy, idle). Nothing is recorded, and no activity
/// made, while nobody listens.
/// </remarks>
public static class FluxAppsTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>FluxApps</c>.</summary>
    public const string ActivitySourceName = "FluxApps";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>FluxApps</c>.</summary>
    public const string MeterName = "FluxApps";
}
