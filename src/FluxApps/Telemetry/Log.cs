using System;
using Microsoft.Extensions.Logging;

namespace FluxApps.Telemetry;

/// <summary>
/// FluxApps' log events (category <c>FluxApps</c>). A runtime, backend, Flux instance or pool worker starting or
/// stopping is Information; each call's steps are Debug, except a failure or a retry (Warning), so nothing is
/// logged per call at Information.
/// </summary>
internal static partial class Log
{
    public const string Category = "FluxApps";

    [LoggerMessage(EventId = 1, EventName = "RuntimeStarted", Level = LogLevel.Information,
        Message = "FluxApps runtime started on the {Backend} backend ({BackendDescription}) in {StartMilliseconds:F0} ms; working directory {WorkingDirectory}")]
    public static partial void RuntimeStarted(ILogger logger, FluxBackend backend, string backendDescription, double startMilliseconds, string workingDirectory);

    [LoggerMessage(EventId = 2, EventName = "FluxInstanceStarted", Level = LogLevel.Information,
        Message = "Started a private Flux instance at {FluxUri}")]
    public static partial void FluxInstanceStarted(ILogger logger, string? fluxUri);

    [LoggerMessage(EventId = 3, EventName = "FluxInstanceConnected", Level = LogLevel.Information,
        Message = "Connected to the Flux instance at {FluxUri}")]
    public static partial void FluxInstanceConnected(ILogger logger, string? fluxUri);

    [LoggerMessage(EventId = 4, EventName = "RuntimeStopping", Level = LogLevel.Information,
        Message = "FluxApps runtime on the {Backend} backend stopping: {PendingCount} call(s) still pending are cancelled")]
    public static partial void RuntimeStopping(ILogger logger, FluxBackend backend, int pendingCount);

    [LoggerMessage(EventId = 5, EventName = "RuntimeStopped", Level = LogLevel.Information,
        Message = "FluxApps runtime on the {Backend} backend stopped")]
    public static partial void RuntimeStopped(ILogger logger, FluxBackend backend);

    [LoggerMessage(EventId = 10, EventName = "CallSubmitted", Level = LogLevel.Debug,
        Message = "{App} submitted ({Resources}{PoolText})")]
    public static partial void CallSubmitted(ILogger logger, string app, string resources, string poolText);

    [LoggerMessage(EventId = 11, EventName = "CallQueued", Level = LogLevel.Debug,
        Message = "{App} is job {JobId}")]
    public static partial void CallQueued(ILogger logger, string app, string? jobId);

    [LoggerMessage(EventId = 12, EventName = "CallStarted", Level = LogLevel.Debug,
        Message = "{App} job {JobId} started")]
    public static partial void CallStarted(ILogger logger, string app, string? jobId);

    [LoggerMessage(EventId = 13, EventName = "CallSucceeded", Level = LogLevel.Debug,
        Message = "{App} job {JobId} succeeded after {Attempts} attempt(s){CacheText}")]
    public static partial void CallSucceeded(ILogger logger, string app, string? jobId, int attempts, string cacheText);

    [LoggerMessage(EventId = 14, EventName = "CallFailed", Level = LogLevel.Warning,
        Message = "{App} job {JobId} failed ({FailureKind}): {FailureMessage}")]
    public static partial void CallFailed(ILogger logger, string app, string? jobId, string failureKind, string failureMessage, Exception exception);

    [LoggerMessage(EventId = 15, EventName = "CallRetrying", Level = LogLevel.Warning,
        Message = "{App} job {JobId} failed and is retried: {RetryText}")]
    public static partial void CallRetrying(ILogger logger, string app, string? jobId, string retryText);

    [LoggerMessage(EventId = 16, EventName = "CallCanceled", Level = LogLevel.Debug,
        Message = "{App} job {JobId} cancelled")]
    public static partial void CallCanceled(ILogger logger, string app, string? jobId);

    [LoggerMessage(EventId = 17, EventName = "JobEventHandlerFailed", Level = LogLevel.Warning,
        Message = "{App} job {JobId}: a JobEvent handler threw {ExceptionType} on the {EventName} event; the call goes on")]
    public static partial void JobEventHandlerFailed(ILogger logger, string app, string? jobId, string eventName, string exceptionType, Exception exception);

    [LoggerMessage(EventId = 20, EventName = "PoolWorkerUp", Level = LogLevel.Information,
        Message = "Pool {Pool}: worker {Worker} up (job {JobId}, pid {Pid})")]
    public static partial void PoolWorkerUp(ILogger logger, string pool, long worker, string? jobId, int pid);

    [LoggerMessage(EventId = 21, EventName = "PoolWorkerDown", Level = LogLevel.Information,
        Message = "Pool {Pool}: worker {Worker} (job {JobId}) ended: {How}")]
    public static partial void PoolWorkerDown(ILogger logger, string pool, long worker, string? jobId, string how);

    [LoggerMessage(EventId = 22, EventName = "PoolWorkerLost", Level = LogLevel.Warning,
        Message = "Pool {Pool}: worker {Worker} (job {JobId}) ended with {RunningCount} call(s) running: {How}")]
    public static partial void PoolWorkerLost(ILogger logger, string pool, long worker, string? jobId, int runningCount, string how);
}
