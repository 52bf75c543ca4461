using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FluxApps.Telemetry;

/// <summary>The process's one <see cref="ActivitySource"/> and <see cref="Meter"/>, and the instruments every runtime records into.</summary>
internal static class Instruments
{
    private static readonly string? s_version = typeof(Instruments).Assembly.GetName().Version?.ToString();
    private static readonly object s_gate = new();
    private static CallObserver[] s_live = [];

    public static readonly ActivitySource Source = new(FluxAppsTelemetry.ActivitySourceName, s_version);

    public static readonly Meter Meter = new(FluxAppsTelemetry.MeterName, s_version);

    public static readonly Counter<long> CallsSubmitted = Meter.CreateCounter<long>("fluxapps.calls.submitted", "{call}",
        "Calls taken by a runtime (a retried call counts once).");

    public static readonly Counter<long> CallsCompleted = Meter.CreateCounter<long>("fluxapps.calls.completed", "{call}",
        "Calls that have their outcome, by fluxapps.outcome (succeeded, failed, canceled).");

    public static readonly Counter<long> CallsFailed = Meter.CreateCounter<long>("fluxapps.calls.failed", "{call}",
        "Calls that failed, by error.type: AppException (the app threw) or the FluxJobFailureKind of a job that ended without a result.");

    public static readonly Counter<long> HandlerErrors = Meter.CreateCounter<long>("fluxapps.handler.errors", "{error}",
        "Exceptions thrown by a future's JobEvent handlers (logged and ignored: the call goes on), by fluxapps.app and fluxapps.event.name.");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("fluxapps.call.queue_wait", "s",
        "From a job's submission to the start of its tasks (each attempt).");

    public static readonly Histogram<double> RunTime = Meter.CreateHistogram<double>("fluxapps.call.run_time", "s",
        "From the start of a job's tasks to their finish (each attempt).");

    // Observable instruments ask the live runtimes when a listener collects; none is asked otherwise.
    public static readonly ObservableGauge<int> CallsPending = Meter.CreateObservableGauge("fluxapps.calls.pending", ObservePending, "{call}",
        "Calls submitted and not yet completed, by runtime backend.");

    public static readonly ObservableGauge<int> PoolWorkers = Meter.CreateObservableGauge("fluxapps.pool.workers", ObservePoolWorkers, "{worker}",
        "Pool workers by fluxapps.pool and fluxapps.worker.state (starting, busy, idle).");

    /// <summary>A runtime's observer starts reporting to the observable instruments.</summary>
    public static void Register(CallObserver observer)
    {
        lock (s_gate) s_live = [.. s_live, observer];
    }

    /// <summary>A disposed runtime's observer stops reporting.</summary>
    public static void Unregister(CallObserver observer)
    {
        lock (s_gate)
        {
            var rest = new List<CallObserver>(s_live);
            rest.Remove(observer);
            s_live = rest.ToArray();
        }
    }

    private static IEnumerable<Measurement<int>> ObservePending()
    {
        foreach (var observer in System.Threading.Volatile.Read(ref s_live))
            yield return new Measurement<int>(observer.PendingCount(), new KeyValuePair<string, object?>(Tags.Backend, observer.BackendName));
    }

    private static IEnumerable<Measurement<int>> ObservePoolWorkers()
    {
        foreach (var observer in System.Threading.Volatile.Read(ref s_live))
        {
            foreach (var (pool, starting, busy, idle) in observer.PoolWorkers())
            {
                yield return PoolMeasurement(starting, pool, "starting");
                yield return PoolMeasurement(busy, pool, "busy");
                yield return PoolMeasurement(idle, pool, "idle");
            }
        }
    }

    private static Measurement<int> PoolMeasurement(int count, string pool, string state) =>
        new(count, new KeyValuePair<string, object?>(Tags.Pool, pool), new KeyValuePair<string, object?>(Tags.WorkerState, state));

    /// <summary>Tag (attribute) names, shared by activities and metrics.</summary>
    public static class Tags
    {
        public const string App = "fluxapps.app";
        public const string Backend = "fluxapps.backend";
        public const string JobId = "fluxapps.job.id";
        public const string Pool = "fluxapps.pool";
        public const string Cpus = "fluxapps.cpus";
        public const string Gpus = "fluxapps.gpus";
        public const string MpiRanks = "fluxapps.mpi_ranks";
        public const string Nodes = "fluxapps.nodes";
        public const string Queue = "fluxapps.queue";
        public const string QueueWait = "fluxapps.queue_wait";
        public const string RunTime = "fluxapps.run_time";
        public const string Attempts = "fluxapps.attempts";
        public const string Outcome = "fluxapps.outcome";
        public const string FromCache = "fluxapps.from_cache";
        public const string WorkerState = "fluxapps.worker.state";
        public const string ErrorType = "error.type";
        public const string EventContext = "fluxapps.event.context";
        public const string EventName = "fluxapps.event.name";
    }
}
