using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FluxApps.Backends.Flux;

/// <summary>
/// One entry of a job eventlog (RFC 18): <c>{"timestamp": 1234.5, "name": "finish", "context": {"status": 0}}</c>,
/// as <c>flux_job_event_watch_get</c> returns it.
/// </summary>
internal sealed class EventlogEntry
{
    private readonly Dictionary<string, JsonElement> _context;

    private EventlogEntry(string name, double timestamp, Dictionary<string, JsonElement> context)
    {
        Name = name;
        Timestamp = timestamp;
        _context = context;
    }

    /// <summary>Event name: <c>submit</c>, <c>alloc</c>, <c>start</c>, <c>finish</c>, <c>exception</c>, <c>clean</c>, ...</summary>
    public string Name { get; }

    /// <summary>Seconds since the Unix epoch.</summary>
    public double Timestamp { get; }

    /// <summary>The context object's members (empty when the event has none).</summary>
    public IReadOnlyDictionary<string, JsonElement> Context => _context;

    /// <summary>Parses one entry (a trailing newline is allowed); throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static EventlogEntry Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"eventlog entry is not JSON ({ex.Message}): {Shorten(json)}", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("eventlog entry is not a JSON object: " + Shorten(json));
            if (!root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(name.GetString()))
                throw new FormatException("eventlog entry has no name: " + Shorten(json));
            if (!root.TryGetProperty("timestamp", out var ts) || ts.ValueKind != JsonValueKind.Number)
                throw new FormatException("eventlog entry has no numeric timestamp: " + Shorten(json));
            var context = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (root.TryGetProperty("context", out var ctx))
            {
                if (ctx.ValueKind != JsonValueKind.Object)
                    throw new FormatException("eventlog entry's context is not an object: " + Shorten(json));
                foreach (var member in ctx.EnumerateObject()) context[member.Name] = member.Value.Clone();
            }
            return new EventlogEntry(name.GetString()!, ts.GetDouble(), context);
        }
    }

    /// <summary>Parses a whole eventlog (RFC 18: one entry per line); blank lines are skipped.</summary>
    public static List<EventlogEntry> ParseLog(string text)
    {
        var list = new List<EventlogEntry>();
        foreach (string line in text.Split('\n'))
            if (line.Trim().Length > 0) list.Add(Parse(line));
        return list;
    }

    /// <summary>A string member of the context, or null.</summary>
    public string? GetString(string key) =>
        _context.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An integer member of the context, or null.</summary>
    public long? GetInt64(string key) =>
        _context.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : null;

    /// <summary>The context as short text, <c>key=value</c> pairs in order, as <c>flux job eventlog</c> prints it.</summary>
    public string ContextText
    {
        get
        {
            if (_context.Count == 0) return "";
            var sb = new StringBuilder();
            foreach (var (key, value) in _context)
            {
                if (sb.Length > 0) sb.Append(' ');
                sb.Append(key).Append('=').Append(value.GetRawText());
            }
            return sb.ToString();
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Timestamp:F6} {Name} {ContextText}").TrimEnd();

    private static string Shorten(string s) => s.Length <= 200 ? s.TrimEnd() : s[..200] + "...";
}

/// <summary>Decodes POSIX wait statuses as Flux reports them.</summary>
internal static class WaitStatus
{
    /// <summary>
    /// A raw POSIX wait status (as in an <c>exec</c> exception's <c>wait_status</c>): the exit code
    /// when the process exited, the signal when a signal killed it.
    /// </summary>
    public static (int ExitCode, int? Signal) DecodeRaw(int status)
    {
        int termsig = status & 0x7f;
        if (termsig == 0) return ((status >> 8) & 0xff, null);
        if (termsig != 0x7f) return (0, termsig);
        return ((status >> 8) & 0xff, null); // stopped: not a final status, report the code part
    }

    /// <summary>
    /// The status of a job's <c>finish</c> event: the job shells' exit. A shell exits with its worst task's
    /// code, and reports a task killed by signal N as 128 + N, so a code of 129-192 may be either; the
    /// result says so (<see cref="ExitStatus.CodeMayBeSignal"/>) rather than guessing. A shell itself
    /// killed by a signal is reported as that signal.
    /// </summary>
    public static ExitStatus DecodeFinish(int status)
    {
        var (code, signal) = DecodeRaw(status);
        return signal is int s ? ExitStatus.Killed(s) : ExitStatus.Folded(code);
    }
}

/// <summary>What the backend learns from a job's eventlog, and how the job ended (pure: fed one event at a time).</summary>
internal sealed partial class JobEventTracker
{
    /// <summary>The rank in a job shell's exception note: <c>dotnet: task rank 1 on host n1 failed (Exit 5) ...</c>.</summary>
    [GeneratedRegex(@"\b(?:task|shell) rank (\d+)\b", RegexOptions.CultureInvariant)]
    private static partial Regex TaskRank();

    /// <summary>The job's state per RFC 21.</summary>
    public FluxJobState State { get; private set; } = FluxJobState.New;

    /// <summary>The first fatal (severity 0) exception, the root cause of a failure (RFC 21).</summary>
    public EventlogEntry? FatalException { get; private set; }

    /// <summary>The finish event's wait status, once the job's shells have exited.</summary>
    public int? FinishStatus { get; private set; }

    /// <summary>True once the fatal exception arrived before the finish event (it decides the outcome).</summary>
    public bool ExceptionBeforeFinish { get; private set; }

    /// <summary>The <c>start</c> event arrived: the job shells ran.</summary>
    public bool Started { get; private set; }

    /// <summary>The <c>clean</c> event arrived: the job is inactive.</summary>
    public bool Cleaned { get; private set; }

    /// <summary>Applies one event; returns true when it changed <see cref="State"/>.</summary>
    public bool Apply(EventlogEntry e)
    {
        var before = State;
        switch (e.Name)
        {
            case "validate" when State == FluxJobState.New:
                State = FluxJobState.Depend;
                break;
            case "invalidate":
                State = FluxJobState.Inactive;
                break;
            case "depend" when State == FluxJobState.Depend:
                State = FluxJobState.Priority;
                break;
            case "priority" when State == FluxJobState.Priority:
                State = FluxJobState.Sched;
                break;
            case "alloc" when State is FluxJobState.Sched or FluxJobState.Priority or FluxJobState.Depend:
                State = FluxJobState.Run;
                break;
            case "start":
                Started = true;
                break;
            case "finish":
                FinishStatus = (int)(e.GetInt64("status") ?? 0);
                if (State != FluxJobState.Inactive) State = FluxJobState.Cleanup;
                break;
            case "exception":
                if ((e.GetInt64("severity") ?? 0) == 0 && FatalException is null)
                {
                    FatalException = e;
                    ExceptionBeforeFinish = FinishStatus is null;
                    if (State != FluxJobState.Inactive) State = FluxJobState.Cleanup;
                }
                break;
            case "clean":
                Cleaned = true;
                State = FluxJobState.Inactive;
                break;
        }
        return State != before;
    }

    /// <summary>The fatal exception's type (<c>cancel</c>, <c>timeout</c>, <c>alloc</c>, <c>exec</c>, ...), or null.</summary>
    public string? ExceptionType => FatalException?.GetString("type");

    /// <summary>True once a cancel exception decided the outcome (the future may complete before the job is clean).</summary>
    public bool IsCancelled => ExceptionBeforeFinish && ExceptionType == "cancel";

    /// <summary>The exception's text as Flux prints it: <c>type: note</c>.</summary>
    public string? ExceptionText
    {
        get
        {
            if (FatalException is null) return null;
            string note = FatalException.GetString("note") ?? "";
            return note.Length == 0 ? ExceptionType ?? "exception" : $"{ExceptionType}: {note}";
        }
    }

    /// <summary>How the job ended, once it is clean (or its eventlog ended, or a cancel decided it).</summary>
    public JobOutcomeDecision Decide(int ranks)
    {
        var ex = FatalException;
        string? type = ExceptionType;
        if (ex is not null && ExceptionBeforeFinish)
        {
            switch (type)
            {
                case "cancel":
                    return new JobOutcomeDecision(JobOutcomeKind.Cancelled);
                case "timeout":
                    return new JobOutcomeDecision(JobOutcomeKind.Failed, FluxJobFailureKind.TimeLimit, ExceptionText);
                case "alloc":
                    return new JobOutcomeDecision(JobOutcomeKind.Failed, FluxJobFailureKind.Rejected, ExceptionText);
                case "node-failure":
                case "lost":
                    return new JobOutcomeDecision(JobOutcomeKind.Failed, FluxJobFailureKind.NodeFailure, ExceptionText);
            }
            if (FinishStatus is not int)
            {
                // The job never ran to a finish: the shell could not start (bad cwd, bad option), a
                // dependency or prolog failed, or another fatal exception stopped it.
                return new JobOutcomeDecision(JobOutcomeKind.Failed, Started ? FluxJobFailureKind.Other : FluxJobFailureKind.Rejected, ExceptionText);
            }
            // The tasks ran and one failed (exit-on-error, exit-timeout, a shell fatal error): the
            // failing task's own status is in the exception; the job directory may hold its report.
            int failedRank = FailedRank(ex, ranks);
            if (ex.GetInt64("wait_status") is long raw)
            {
                var (code, signal) = WaitStatus.DecodeRaw((int)raw);
                return new JobOutcomeDecision(JobOutcomeKind.Finished, ExitCode: code, Signal: signal, FailedRank: failedRank, FluxException: ExceptionText);
            }
            var shells = WaitStatus.DecodeFinish(FinishStatus.Value);
            int c = shells.IsSuccess ? 1 : shells.Code; // a fatal exception is a failure even when the shells exited 0
            return new JobOutcomeDecision(JobOutcomeKind.Finished, ExitCode: c, Signal: shells.Signal, FailedRank: failedRank, FluxException: ExceptionText,
                ExitCodeMayBeSignal: shells.CodeMayBeSignal);
        }
        if (FinishStatus is int status)
        {
            var shells = WaitStatus.DecodeFinish(status);
            int rank = shells.IsSuccess ? -1 : ranks == 1 ? 0 : -1;
            return new JobOutcomeDecision(JobOutcomeKind.Finished, ExitCode: shells.Code, Signal: shells.Signal, FailedRank: rank,
                ExitCodeMayBeSignal: shells.CodeMayBeSignal);
        }
        return new JobOutcomeDecision(JobOutcomeKind.Failed, FluxJobFailureKind.BackendFailure,
            ExceptionText ?? "the job's eventlog ended without a finish or exception event");
    }

    private static int FailedRank(EventlogEntry exception, int ranks)
    {
        var m = TaskRank().Match(exception.GetString("note") ?? "");
        if (m.Success && int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int rank)) return rank;
        return ranks == 1 ? 0 : -1;
    }
}

internal enum JobOutcomeKind { Finished, Failed, Cancelled }

/// <summary>
/// How a Flux job ended, before it is turned into a <see cref="Runtime.JobOutcome"/>.
/// <see cref="ExitCodeMayBeSignal"/>: the code came from the finish event, where 128 + N may be signal N.
/// </summary>
internal readonly record struct JobOutcomeDecision(
    JobOutcomeKind Kind,
    FluxJobFailureKind FailureKind = FluxJobFailureKind.Other,
    string? FluxException = null,
    int ExitCode = 0,
    int? Signal = null,
    int FailedRank = -1,
    bool ExitCodeMayBeSignal = false);
