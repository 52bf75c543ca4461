using System.Text.RegularExpressions;
using FluxApps.TestApps;
using Spectre.Console;
using Spectre.Console.Testing;

namespace FluxApps.Samples.Tests;

/// <summary>
/// The quick start's progress view (samples/QuickStart: CallProgress.cs, ProgressView.cs): the counts it keeps from a
/// real local runtime's events, the frame it draws, the live display on an interactive console, and when it is used.
/// </summary>
public sealed partial class QuickStartProgressTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static Task<FluxAppsRuntime> StartLocalAsync() =>
        FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, LocalCores = 2 });

    [Fact]
    public async Task CountsFromARealRuntimesEventsMatchTheCallsOutcomes()
    {
        await using var runtime = await StartLocalAsync();
        var progress = new CallProgress(total: 6);
        var before = DateTimeOffset.UtcNow;
        var observing = progress.ObserveAsync(runtime.WatchEventsAsync()); // subscribed here, before the calls
        var options = new FluxCallOptions { Runtime = runtime };
        var sleeper = TelemetryApps.SleepThenAsync(60_000, 0, options); // first: it gets a core, and is cancelled while it runs
        var succeeding = Enumerable.Range(0, 3).Select(seed => (FluxFuture)MonteCarlo.CountHitsAsync(seed, 10_000, options)).ToList();
        var failing = new List<FluxFuture> { TelemetryApps.ThrowAsync("bad input 1", options), TelemetryApps.ThrowAsync("bad input 2", options) };

        // The running sleeper is counted as running before it is cancelled.
        await Eventually(() => sleeper.State == FluxJobState.Run && progress.Snapshot(DateTimeOffset.UtcNow).Running >= 1);
        sleeper.Cancel();
        var calls = succeeding.Concat(failing).Append(sleeper).ToList();
        foreach (var call in calls) await Settled(call);
        await observing.WaitAsync(TimeSpan.FromSeconds(30)); // ends by itself once all six have completed
        var after = DateTimeOffset.UtcNow;

        var snapshot = progress.Snapshot(after);
        Assert.Equal((3, 2, 1), (snapshot.Succeeded, snapshot.Failed, snapshot.Canceled));
        Assert.Equal(calls.Count(c => c.AsTask().IsCompletedSuccessfully), snapshot.Succeeded);
        Assert.Equal(calls.Count(c => c.AsTask().IsFaulted), snapshot.Failed);
        Assert.Equal(calls.Count(c => c.AsTask().IsCanceled), snapshot.Canceled);
        Assert.Equal((0, 0, 0, 6), (snapshot.Queued, snapshot.Running, snapshot.Unseen, snapshot.Completed));
        Assert.True(snapshot.IsComplete);

        // The first failure is one of the failed calls' own message.
        var messages = failing.Select(f => f.AsTask().Exception!.InnerException!.Message).ToList();
        Assert.Contains(snapshot.FirstFailure, messages);
        Assert.Contains("bad input", snapshot.FirstFailure);

        // The rate: completions over the time from the first event to the last completion, which lies within the test's.
        Assert.InRange(snapshot.Elapsed, TimeSpan.FromTicks(1), after - before);
        Assert.Equal(6 / snapshot.Elapsed.TotalSeconds, snapshot.Rate, 6);
        Assert.Null(snapshot.Remaining);
        // Once all have completed the rate no longer falls as time passes.
        Assert.Equal(snapshot.Elapsed, progress.Snapshot(after.AddHours(1)).Elapsed);
    }

    [Fact]
    public void ACallGoesFromQueuedToRunningToItsOutcomeAndARetryQueuesItAgain()
    {
        var progress = new CallProgress(total: 3);
        object a = new(), b = new();
        progress.Record(a, FluxCallEventKind.Submitted, FluxJobState.New, null, null, s_t0);
        AssertCounts(progress, queued: 1, running: 0, unseen: 2);
        progress.Record(a, FluxCallEventKind.JobEvent, FluxJobState.Sched, null, null, s_t0);
        progress.Record(b, FluxCallEventKind.Submitted, FluxJobState.New, null, null, s_t0);
        AssertCounts(progress, queued: 2, running: 0, unseen: 1);
        progress.Record(a, FluxCallEventKind.JobEvent, FluxJobState.Run, null, null, s_t0);
        AssertCounts(progress, queued: 1, running: 1, unseen: 1);
        progress.Record(a, FluxCallEventKind.JobEvent, FluxJobState.Sched, null, null, s_t0); // "retry": waits again
        AssertCounts(progress, queued: 2, running: 0, unseen: 1);
        progress.Record(a, FluxCallEventKind.JobEvent, FluxJobState.Cleanup, null, null, s_t0);
        AssertCounts(progress, queued: 1, running: 1, unseen: 1);

        progress.Record(a, FluxCallEventKind.Completed, FluxJobState.Inactive, FluxCallOutcome.Failed,
            new InvalidOperationException("first line\n   at the stack"), s_t0.AddSeconds(1));
        progress.Record(b, FluxCallEventKind.Completed, FluxJobState.Inactive, FluxCallOutcome.Failed, new InvalidOperationException("second"), s_t0.AddSeconds(2));
        var snapshot = progress.Snapshot(s_t0.AddSeconds(2));
        Assert.Equal((0, 0, 2), (snapshot.Queued, snapshot.Running, snapshot.Failed));
        Assert.Equal("first line", snapshot.FirstFailure); // the first one's, its first line only

        // An outcome is final: a late event of the call changes nothing.
        progress.Record(a, FluxCallEventKind.JobEvent, FluxJobState.Run, null, null, s_t0.AddSeconds(3));
        snapshot = progress.Snapshot(s_t0.AddSeconds(3));
        Assert.Equal((0, 2, 1), (snapshot.Running, snapshot.Failed, snapshot.Unseen));
        Assert.False(progress.IsComplete);
    }

    [Fact]
    public void TheRateCountsCompletionsPerSecondUntilNowThenUntilTheLastCompletion()
    {
        var progress = new CallProgress(total: 3);
        object[] calls = [new(), new(), new()];
        foreach (var call in calls) progress.Record(call, FluxCallEventKind.Submitted, FluxJobState.New, null, null, s_t0);
        Assert.Equal(0, progress.Snapshot(s_t0.AddSeconds(1)).Rate);
        Assert.Null(progress.Snapshot(s_t0.AddSeconds(1)).Remaining);

        progress.Record(calls[0], FluxCallEventKind.Completed, FluxJobState.Inactive, FluxCallOutcome.Succeeded, null, s_t0.AddSeconds(2));
        progress.Record(calls[1], FluxCallEventKind.Completed, FluxJobState.Inactive, FluxCallOutcome.Canceled, null, s_t0.AddSeconds(4));
        var pending = progress.Snapshot(s_t0.AddSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(5), pending.Elapsed);
        Assert.Equal(0.4, pending.Rate, 9);
        Assert.Equal(2.5, pending.Remaining!.Value.TotalSeconds, 6); // one call left at 0.4 calls/s

        progress.Record(calls[2], FluxCallEventKind.Completed, FluxJobState.Inactive, FluxCallOutcome.Succeeded, null, s_t0.AddSeconds(6));
        var done = progress.Snapshot(s_t0.AddSeconds(100));
        Assert.Equal(TimeSpan.FromSeconds(6), done.Elapsed);
        Assert.Equal(0.5, done.Rate, 9);
        Assert.Equal((2, 1, 0), (done.Succeeded, done.Canceled, done.Failed));
        Assert.Null(done.FirstFailure);
        Assert.True(progress.IsComplete);
    }

    [Fact]
    public void TheFrameShowsTheBarTheCountsPerStateTheRateAndTheFirstFailure()
    {
        var snapshot = new CallProgressSnapshot(Total: 10, Queued: 1, Running: 1, Succeeded: 4, Failed: 2, Canceled: 1,
            Elapsed: TimeSpan.FromSeconds(5), FirstFailure: "Apps.Bad threw [x] at index 3");
        var console = new TestConsole().Width(120).SupportsUnicode(true);
        console.Write(ProgressView.Render(snapshot));
        var lines = console.Lines.Select(l => l.TrimEnd()).ToList();

        // 7 of 10 done: 28 of the 40 cells, the rest unfilled.
        Assert.Equal(new string('━', 28) + new string('─', 12) + " 7/10 calls completed (70%)", lines[0]);
        Assert.Matches(@"│ queued │ running │ done │ failed │ cancelled │ +rate │", lines[2]);
        // The call not yet seen waits with the queued one; 7 completions in 5 s.
        Assert.Matches(@"^│ +2 │ +1 │ +4 │ +2 │ +1 │ +1\.4 calls/s │$", lines[4]);
        Assert.Contains("5.0 s elapsed, about 3 s left", lines[6]);
        Assert.Equal("first failure: Apps.Bad threw [x] at index 3 (and 1 more)", lines[7]);

        // Without Unicode, the bar is ASCII.
        var ascii = new TestConsole().Width(120);
        ascii.Write(ProgressView.Render(snapshot, unicode: false));
        Assert.StartsWith(new string('#', 28) + new string('-', 12) + " 7/10", ascii.Lines[0]);
    }

    [Fact]
    public void TheBarColoursEachOutcomeAndIsFullOnlyOnceEveryCallHasCompleted()
    {
        var mixed = new CallProgressSnapshot(10, 1, 1, 4, 2, 1, TimeSpan.FromSeconds(1), "x");
        Assert.Equal($"[green]{new string('━', 16)}[/][red]{new string('━', 8)}[/][yellow]{new string('━', 4)}[/][grey]{new string('─', 12)}[/]",
            ProgressView.Bar(mixed));

        var almost = new CallProgressSnapshot(1000, 0, 1, 999, 0, 0, TimeSpan.FromSeconds(1), null);
        Assert.Equal($"[green]{new string('━', 39)}[/][grey]─[/]", ProgressView.Bar(almost));
        var all = almost with { Running = 0, Succeeded = 1000 };
        Assert.Equal($"[green]{new string('━', 40)}[/]", ProgressView.Bar(all));
    }

    [Fact]
    public async Task TheLiveViewRedrawsInPlaceUntilEveryCallHasCompletedAndLeavesTheLastFrame()
    {
        await using var runtime = await StartLocalAsync();
        var console = new TestConsole().Width(120).SupportsUnicode(true).Interactive().EmitAnsiSequences();
        var progress = new CallProgress(total: 4);
        var events = runtime.WatchEventsAsync();
        var options = new FluxCallOptions { Runtime = runtime };
        var calls = Enumerable.Range(0, 3).Select(seed => (FluxFuture)MonteCarlo.CountHitsAsync(seed, 10_000, options))
            .Append(TelemetryApps.ThrowAsync("went wrong", options)).ToList();

        await ProgressView.ShowAsync(console, progress, events, TimeProvider.System).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(calls, c => Assert.True(c.IsCompleted));

        string raw = console.Output;
        Assert.Matches(@"\x1b\[\d+A", raw); // the cursor goes back up: each frame replaces the one before
        string text = AnsiSequence().Replace(raw, "");
        var frames = text.Split("calls completed").Length - 1;
        Assert.True(frames >= 2, $"{frames} frame(s):\n{text}");
        // The last frame: 3 green cells of 4 = 30, the failed one 10 (colours stripped), every call counted.
        int lastCounter = text.LastIndexOf("calls completed", StringComparison.Ordinal);
        string last = text[(text.LastIndexOfAny(['\r', '\n'], lastCounter) + 1)..];
        Assert.StartsWith(new string('━', 40) + " 4/4 calls completed (100%)", last);
        Assert.Matches(@"│ +0 │ +0 │ +3 │ +1 │ +0 │ +\d+\.\d calls/s │", last);
        Assert.Matches(@"first failure: TelemetryApps\.Throw threw System\.InvalidOperationException in job ƒ\w+, rank 0: went wrong", last);
    }

    [Fact]
    public void TheLiveViewIsUsedOnlyOnAnInteractiveAnsiTerminalWithoutPlain()
    {
        var terminal = new TestConsole().Interactive().SupportsAnsi(true).Profile.Capabilities;
        Assert.True(ProgressView.CanShowLive(plainRequested: false, outputRedirected: false, term: "xterm-256color", terminal));
        Assert.True(ProgressView.CanShowLive(plainRequested: false, outputRedirected: false, term: null, terminal));

        Assert.False(ProgressView.CanShowLive(plainRequested: true, outputRedirected: false, term: "xterm-256color", terminal));
        Assert.False(ProgressView.CanShowLive(plainRequested: false, outputRedirected: true, term: "xterm-256color", terminal));
        Assert.False(ProgressView.CanShowLive(plainRequested: false, outputRedirected: false, term: "dumb", terminal));
        var notInteractive = new TestConsole().SupportsAnsi(true).Profile.Capabilities;
        Assert.False(ProgressView.CanShowLive(plainRequested: false, outputRedirected: false, term: "xterm-256color", notInteractive));
        var noAnsi = new TestConsole().Interactive().SupportsAnsi(false).Profile.Capabilities;
        Assert.False(ProgressView.CanShowLive(plainRequested: false, outputRedirected: false, term: "xterm-256color", noAnsi));
    }

    private static void AssertCounts(CallProgress progress, int queued, int running, int unseen)
    {
        var snapshot = progress.Snapshot(s_t0);
        Assert.Equal((queued, running, unseen), (snapshot.Queued, snapshot.Running, snapshot.Unseen));
    }

    private static async Task Settled(FluxFuture call)
    {
        try
        {
            await call;
        }
        catch (Exception ex) when (ex is FluxAppException or OperationCanceledException)
        {
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(10);
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiSequence();
}
