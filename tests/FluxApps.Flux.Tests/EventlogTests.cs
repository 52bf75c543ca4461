using FluxApps;
using FluxApps.Backends.Flux;

namespace FluxApps.Flux.Tests;

/// <summary>Eventlog parsing, wait-status decoding and how each job ending maps to an outcome (no Flux needed).</summary>
public sealed class EventlogTests
{
    private static JobEventTracker Replay(string log, out List<FluxJobState> states, int? stopAfter = null)
    {
        var tracker = new JobEventTracker();
        states = new List<FluxJobState>();
        foreach (var e in EventlogEntry.ParseLog(log))
        {
            if (tracker.Apply(e)) states.Add(tracker.State);
            if (stopAfter is not null && states.Count >= stopAfter) break;
        }
        return tracker;
    }

    [Fact]
    public void EntriesParseWithNameTimestampAndContext()
    {
        var e = EventlogEntry.Parse("{\"timestamp\":1795639153.1517394,\"name\":\"exception\",\"context\":{\"type\":\"exec\",\"severity\":0,\"note\":\"sh: task rank 1 failed\",\"userid\":0,\"wait_status\":11}}\n");
        Assert.Equal("exception", e.Name);
        Assert.Equal(1795639153.1517394, e.Timestamp, 6);
        Assert.Equal("exec", e.GetString("type"));
        Assert.Equal(0, e.GetInt64("severity"));
        Assert.Equal(11, e.GetInt64("wait_status"));
        Assert.Null(e.GetString("missing"));
        Assert.Null(e.GetInt64("note"));
        Assert.Equal("type=\"exec\" severity=0 note=\"sh: task rank 1 failed\" userid=0 wait_status=11", e.ContextText);
    }

    [Fact]
    public void EntriesWithoutContextHaveEmptyContext()
    {
        var e = EventlogEntry.Parse("{\"timestamp\":1.5,\"name\":\"clean\"}");
        Assert.Empty(e.Context);
        Assert.Equal("", e.ContextText);
        Assert.Equal("1.500000 clean", e.ToString());
    }

    [Fact]
    public void NestedContextIsKeptAsJson()
    {
        var e = EventlogEntry.Parse("{\"timestamp\":2,\"name\":\"alloc\",\"context\":{\"annotations\":{\"sched\":{\"resource_summary\":\"rank0/core[0-1]\"}}}}");
        Assert.Equal("annotations={\"sched\":{\"resource_summary\":\"rank0/core[0-1]\"}}", e.ContextText);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"timestamp\":1}")]
    [InlineData("{\"name\":\"x\"}")]
    [InlineData("{\"name\":\"\",\"timestamp\":1}")]
    [InlineData("{\"name\":\"x\",\"timestamp\":\"soon\"}")]
    [InlineData("{\"name\":\"x\",\"timestamp\":1,\"context\":[1]}")]
    public void MalformedEntriesAreRefusedWithTheText(string json)
    {
        var ex = Assert.Throws<FormatException>(() => EventlogEntry.Parse(json));
        Assert.Contains("eventlog entry", ex.Message);
    }

    [Fact]
    public void AWholeEventlogParsesLineByLine()
    {
        var log = EventlogEntry.ParseLog(RealEventlogs.Completed + "\n\n");
        Assert.Equal(["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"], log.Select(e => e.Name));
        Assert.True(log.Zip(log.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp));
    }

    [Theory]
    [InlineData(0, 0, null)]
    [InlineData(768, 3, null)]          // exit(3)
    [InlineData(1280, 5, null)]         // exit(5)
    [InlineData(11, 0, 11)]             // SIGSEGV
    [InlineData(134, 0, 6)]             // SIGABRT with core dump flag
    [InlineData(9, 0, 9)]               // SIGKILL
    [InlineData(0x137f, 19, null)]      // stopped (not final): the code part
    public void RawWaitStatusesDecode(int status, int code, int? signal) =>
        Assert.Equal((code, signal), WaitStatus.DecodeRaw(status));

    [Theory]
    [InlineData(0, 0, null, false)]
    [InlineData(768, 3, null, false)]
    [InlineData(34304, 134, null, true)]    // the shell's 128+SIGABRT, or a task's exit(134): the finish event cannot say which
    [InlineData(33280, 130, null, true)]    // exit(130) or 128+SIGINT
    [InlineData(49152, 192, null, true)]    // 128+64, the last signal number
    [InlineData(49408, 193, null, false)]   // above any signal: a plain code
    [InlineData(32768, 128, null, false)]   // exit(128) is a plain code
    [InlineData(9, 0, 9, false)]            // a shell killed by a signal: the raw status says so exactly
    public void FinishStatusesNeverGuessASignalFromAnExitCode(int status, int code, int? signal, bool mayBeSignal)
    {
        var decoded = WaitStatus.DecodeFinish(status);
        Assert.Equal((code, signal, mayBeSignal), (decoded.Code, decoded.Signal, decoded.CodeMayBeSignal));
    }

    [Fact]
    public void StatesFollowRfc21()
    {
        var t = Replay(RealEventlogs.Completed, out var states);
        Assert.Equal([FluxJobState.Depend, FluxJobState.Priority, FluxJobState.Sched, FluxJobState.Run, FluxJobState.Cleanup, FluxJobState.Inactive], states);
        Assert.True(t.Started);
        Assert.True(t.Cleaned);
    }

    [Fact]
    public void ACompletedJobFinishesWithExitCodeZero()
    {
        var d = Replay(RealEventlogs.Completed, out _).Decide(ranks: 1);
        Assert.Equal(JobOutcomeKind.Finished, d.Kind);
        Assert.Equal((0, (int?)null, -1), (d.ExitCode, d.Signal, d.FailedRank));
    }

    [Fact]
    public void ANonZeroExitIsFinishedWithTheCode()
    {
        var d = Replay(RealEventlogs.Exit3, out _).Decide(ranks: 1);
        Assert.Equal(JobOutcomeKind.Finished, d.Kind);
        Assert.Equal((3, (int?)null, 0), (d.ExitCode, d.Signal, d.FailedRank));
    }

    [Fact]
    public void ASignaledSingleTaskIsFinishedWithTheShellsCodeMarkedAmbiguous()
    {
        // One task, no exit-on-error: only the finish event's 128+6 tells; the runtime decides from the worker's exit record.
        var d = Replay(RealEventlogs.Abort, out _).Decide(ranks: 1);
        Assert.Equal(JobOutcomeKind.Finished, d.Kind);
        Assert.Equal((134, (int?)null, true), (d.ExitCode, d.Signal, d.ExitCodeMayBeSignal));
    }

    [Fact]
    public void ExitOnErrorNamesTheFailingRankAndItsOwnStatus()
    {
        var d = Replay(RealEventlogs.ExitOnErrorSegv, out _).Decide(ranks: 2);
        Assert.Equal(JobOutcomeKind.Finished, d.Kind);
        Assert.Equal((0, (int?)11, 1), (d.ExitCode, d.Signal, d.FailedRank));
        Assert.StartsWith("exec: sh: task rank 1", d.FluxException);
    }

    [Fact]
    public void TimeoutIsATimeLimitFailure()
    {
        var t = Replay(RealEventlogs.Timeout, out _);
        Assert.False(t.IsCancelled);
        var d = t.Decide(1);
        Assert.Equal(JobOutcomeKind.Failed, d.Kind);
        Assert.Equal(FluxJobFailureKind.TimeLimit, d.FailureKind);
        Assert.Equal("timeout: resource allocation expired", d.FluxException);
    }

    [Fact]
    public void AllocExceptionIsARejection()
    {
        var t = Replay(RealEventlogs.Unsatisfiable, out var states);
        Assert.Equal([FluxJobState.Depend, FluxJobState.Priority, FluxJobState.Sched, FluxJobState.Cleanup, FluxJobState.Inactive], states);
        var d = t.Decide(1);
        Assert.Equal(FluxJobFailureKind.Rejected, d.FailureKind);
        Assert.Contains("unsatisfiable request: need 1 slot(s) of 100 core(s)", d.FluxException);
        Assert.StartsWith("alloc: ", d.FluxException);
    }

    [Fact]
    public void CancelOfARunningJobIsDecidedAtTheException()
    {
        var tracker = new JobEventTracker();
        foreach (var e in EventlogEntry.ParseLog(RealEventlogs.CancelRunning))
        {
            tracker.Apply(e);
            if (e.Name == "exception") break;
        }
        Assert.True(tracker.IsCancelled);
        Assert.False(tracker.Cleaned);
        Assert.Equal(FluxJobState.Cleanup, tracker.State);
        Assert.Equal(JobOutcomeKind.Cancelled, tracker.Decide(1).Kind);
        Assert.Equal(JobOutcomeKind.Cancelled, Replay(RealEventlogs.CancelRunning, out _).Decide(1).Kind);
    }

    [Fact]
    public void CancelOfAPendingJobIsCancelled()
    {
        var t = Replay(RealEventlogs.CancelPending, out _);
        Assert.False(t.Started);
        Assert.Equal(JobOutcomeKind.Cancelled, t.Decide(1).Kind);
    }

    private static string Log(params string[] lines) => string.Join("\n", lines);

    [Fact]
    public void AnExceptionAfterFinishDoesNotChangeTheOutcome()
    {
        var d = Replay(Log(
            "{\"timestamp\":1,\"name\":\"submit\",\"context\":{}}",
            "{\"timestamp\":2,\"name\":\"validate\"}",
            "{\"timestamp\":3,\"name\":\"alloc\"}",
            "{\"timestamp\":4,\"name\":\"start\"}",
            "{\"timestamp\":5,\"name\":\"finish\",\"context\":{\"status\":0}}",
            "{\"timestamp\":6,\"name\":\"exception\",\"context\":{\"type\":\"cancel\",\"severity\":0,\"note\":\"\"}}",
            "{\"timestamp\":7,\"name\":\"clean\"}"), out _).Decide(1);
        Assert.Equal(JobOutcomeKind.Finished, d.Kind);
        Assert.Equal(0, d.ExitCode);
    }

    [Fact]
    public void NonFatalExceptionsAreIgnoredAndTheFirstFatalOneIsTheCause()
    {
        var t = Replay(Log(
            "{\"timestamp\":1,\"name\":\"validate\"}",
            "{\"timestamp\":2,\"name\":\"exception\",\"context\":{\"type\":\"test\",\"severity\":3,\"note\":\"just saying\"}}",
            "{\"timestamp\":3,\"name\":\"exception\",\"context\":{\"type\":\"node-failure\",\"severity\":0,\"note\":\"lost broker rank 3\"}}",
            "{\"timestamp\":4,\"name\":\"exception\",\"context\":{\"type\":\"cancel\",\"severity\":0,\"note\":\"\"}}",
            "{\"timestamp\":5,\"name\":\"clean\"}"), out _);
        Assert.False(t.IsCancelled);
        var d = t.Decide(1);
        Assert.Equal(FluxJobFailureKind.NodeFailure, d.FailureKind);
        Assert.Equal("node-failure: lost broker rank 3", d.FluxException);
    }

    [Fact]
    public void AFatalExceptionBeforeTheShellsStartIsARejection()
    {
        var d = Replay(Log(
            "{\"timestamp\":1,\"name\":\"validate\"}",
            "{\"timestamp\":2,\"name\":\"alloc\"}",
            "{\"timestamp\":3,\"name\":\"exception\",\"context\":{\"type\":\"exec\",\"severity\":0,\"note\":\"failed to start job shell\"}}",
            "{\"timestamp\":4,\"name\":\"clean\"}"), out _).Decide(1);
        Assert.Equal((JobOutcomeKind.Failed, FluxJobFailureKind.Rejected), (d.Kind, d.FailureKind));
        Assert.Equal("exec: failed to start job shell", d.FluxException);
    }

    [Fact]
    public void AShellFailureWithoutWaitStatusStillFails()
    {
        var d = Replay(Log(
            "{\"timestamp\":1,\"name\":\"validate\"}",
            "{\"timestamp\":2,\"name\":\"alloc\"}",
            "{\"timestamp\":3,\"name\":\"start\"}",
            "{\"timestamp\":4,\"name\":\"exception\",\"context\":{\"type\":\"exec\",\"severity\":0,\"note\":\"lost contact\"}}",
            "{\"timestamp\":5,\"name\":\"finish\",\"context\":{\"status\":0}}",
            "{\"timestamp\":6,\"name\":\"clean\"}"), out _).Decide(ranks: 4);
        Assert.Equal(JobOutcomeKind.Finished, d.Kind);
        Assert.Equal((1, -1), (d.ExitCode, d.FailedRank)); // not a success, and no rank to blame
    }

    [Fact]
    public void AnEventlogThatEndsWithoutAnEndingIsABackendFailure()
    {
        var d = Replay(Log("{\"timestamp\":1,\"name\":\"submit\"}", "{\"timestamp\":2,\"name\":\"validate\"}"), out _).Decide(1);
        Assert.Equal(FluxJobFailureKind.BackendFailure, d.FailureKind);
    }

    [Fact]
    public void ARepeatedPriorityEventDoesNotMoveTheState()
    {
        Replay(Log(
            "{\"timestamp\":1,\"name\":\"validate\"}",
            "{\"timestamp\":2,\"name\":\"depend\"}",
            "{\"timestamp\":3,\"name\":\"priority\",\"context\":{\"priority\":16}}",
            "{\"timestamp\":4,\"name\":\"alloc\"}",
            "{\"timestamp\":5,\"name\":\"priority\",\"context\":{\"priority\":20}}"), out var states);
        Assert.Equal([FluxJobState.Depend, FluxJobState.Priority, FluxJobState.Sched, FluxJobState.Run], states);
    }
}
