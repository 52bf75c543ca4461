using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FluxApps;
using Spectre.Console;
using Spectre.Console.Rendering;

/// <summary>
/// The quick start's live view of its calls: a bar of completed/total and a table of the calls per state, with the rate
/// and the first failure, redrawn in place with Spectre.Console's <see cref="LiveDisplay"/> while <see cref="CallProgress"/>
/// counts the runtime's events. Where the terminal cannot redraw (output redirected, <c>TERM=dumb</c>, not interactive) or
/// <c>--plain</c> is given, the program prints a line per result instead.
/// </summary>
public static class ProgressView
{
    /// <summary>The flag that asks for plain lines even on a terminal.</summary>
    public const string PlainFlag = "--plain";

    /// <summary>Characters of the bar.</summary>
    public const int BarWidth = 40;

    /// <summary>How often the view is redrawn (also when no event came: the elapsed time and rate move on).</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Whether this process's terminal can show the live view, unless <paramref name="plainRequested"/>.</summary>
    public static bool CanShowLive(bool plainRequested)
    {
        bool redirected = Console.IsOutputRedirected;
        string? term = Environment.GetEnvironmentVariable("TERM");
        // Spectre.Console's detection is left alone unless needed: plain output stays byte for byte what it was.
        return !plainRequested && !redirected && term != "dumb" && CanShowLive(plainRequested, redirected, term, AnsiConsole.Profile.Capabilities);
    }

    /// <summary>
    /// Whether a terminal with these properties can show the live view: it must be asked for (no <c>--plain</c>),
    /// interactive, not redirected, not <c>TERM=dumb</c>, and understand ANSI cursor movement.
    /// </summary>
    public static bool CanShowLive(bool plainRequested, bool outputRedirected, string? term, Capabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        return !plainRequested && !outputRedirected && !string.Equals(term, "dumb", StringComparison.Ordinal)
            && capabilities.Interactive && capabilities.Ansi;
    }

    /// <summary>Shows the live view on the process's console until every call has completed; see the other overload.</summary>
    public static Task ShowAsync(CallProgress progress, IAsyncEnumerable<FluxCallEvent> events, CancellationToken cancellationToken = default) =>
        ShowAsync(AnsiConsole.Console, progress, events, TimeProvider.System, cancellationToken);

    /// <summary>
    /// Feeds <paramref name="events"/> into <paramref name="progress"/> and redraws the view on <paramref name="console"/>
    /// until every expected call has completed (or the stream ends); the last frame stays on screen.
    /// </summary>
    public static async Task ShowAsync(IAnsiConsole console, CallProgress progress, IAsyncEnumerable<FluxCallEvent> events,
        TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(time);
        var observing = progress.ObserveAsync(events, cancellationToken);
        bool unicode = console.Profile.Capabilities.Unicode;
        IRenderable Frame() => Render(progress.Snapshot(time.GetUtcNow()), unicode);
        // Ctrl+C still ends the program at once, but not with the cursor the live display hides left hidden.
        ConsoleCancelEventHandler showCursor = (_, _) => console.Cursor.Show();
        Console.CancelKeyPress += showCursor;
        try
        {
            await console.Live(Frame()).AutoClear(false).StartAsync(async context =>
            {
                while (!observing.IsCompleted)
                {
                    await Task.WhenAny(observing, Task.Delay(RefreshInterval, time, cancellationToken)).ConfigureAwait(false);
                    context.UpdateTarget(Frame());
                    context.Refresh();
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= showCursor;
        }
        await observing.ConfigureAwait(false);
    }

    /// <summary>One frame of the view: the bar, the table of states and, after a failure, the first one's message.</summary>
    public static IRenderable Render(CallProgressSnapshot snapshot, bool unicode = true)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var frame = new List<IRenderable> { new Markup(Bar(snapshot, unicode) + " " + Counter(snapshot)), StateTable(snapshot) };
        if (snapshot.FirstFailure is { } failure)
        {
            string more = snapshot.Failed > 1 ? $" (and {snapshot.Failed - 1} more)" : "";
            frame.Add(new Markup($"[red]first failure:[/] {Markup.Escape(failure)}{more}"));
        }
        return new Rows(frame);
    }

    /// <summary>
    /// The bar as markup: succeeded, failed and cancelled calls in green, red and yellow, what is left dimmed, and a
    /// different character for the part done, so it reads without colours too.
    /// </summary>
    public static string Bar(CallProgressSnapshot snapshot, bool unicode = true)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        char done = unicode ? '━' : '#', left = unicode ? '─' : '-';
        // Cells round down: the bar is full only once every call has completed.
        int succeeded = Cells(snapshot.Succeeded, snapshot);
        int failed = Cells(snapshot.Succeeded + snapshot.Failed, snapshot) - succeeded;
        int canceled = Cells(snapshot.Completed, snapshot) - succeeded - failed;
        var bar = new StringBuilder();
        Segment(bar, "green", done, succeeded);
        Segment(bar, "red", done, failed);
        Segment(bar, "yellow", done, canceled);
        Segment(bar, "grey", left, BarWidth - succeeded - failed - canceled);
        return bar.ToString();
    }

    private static int Cells(int calls, CallProgressSnapshot snapshot) =>
        snapshot.Total == 0 ? BarWidth : (int)Math.Min(BarWidth, (long)calls * BarWidth / snapshot.Total);

    private static void Segment(StringBuilder bar, string color, char character, int width)
    {
        if (width > 0) bar.Append('[').Append(color).Append(']').Append(character, width).Append("[/]");
    }

    private static string Counter(CallProgressSnapshot s)
    {
        int percent = s.Total == 0 ? 100 : (int)(100L * s.Completed / s.Total);
        return string.Create(CultureInfo.InvariantCulture, $"[bold]{s.Completed}/{s.Total}[/] calls completed ({percent}%)");
    }

    /// <summary>
    /// The calls per state (queued counts the calls not submitted yet too), the completion rate and the failures, with
    /// the elapsed and, while calls are pending, the estimated remaining time as caption.
    /// </summary>
    public static Table StateTable(CallProgressSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("queued").RightAligned());
        table.AddColumn(new TableColumn("[blue]running[/]").RightAligned());
        table.AddColumn(new TableColumn("[green]done[/]").RightAligned());
        table.AddColumn(new TableColumn("[red]failed[/]").RightAligned());
        table.AddColumn(new TableColumn("[yellow]cancelled[/]").RightAligned());
        table.AddColumn(new TableColumn("rate").RightAligned());
        table.AddRow(Count(snapshot.Queued + snapshot.Unseen), Count(snapshot.Running), Count(snapshot.Succeeded),
            Count(snapshot.Failed), Count(snapshot.Canceled), string.Create(CultureInfo.InvariantCulture, $"{snapshot.Rate:F1} calls/s"));
        string caption = string.Create(CultureInfo.InvariantCulture, $"{snapshot.Elapsed.TotalSeconds:F1} s elapsed");
        if (snapshot.Remaining is { } remaining) caption += string.Create(CultureInfo.InvariantCulture, $", about {Math.Ceiling(remaining.TotalSeconds):F0} s left");
        table.Caption(caption);
        return table;
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
}
