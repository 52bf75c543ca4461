using System;
using System.Collections.Generic;
using FluxApps.Runtime;

namespace FluxApps;

/// <summary>
/// Describes what app calls would submit without submitting them, as <c>flux submit --dry-run</c> does: the
/// stub calls made inside <see cref="Describe"/> or <see cref="DescribeAll"/> are checked as usual (an invalid
/// resource, override or pool option throws <see cref="ArgumentException"/> naming the value) and each becomes a
/// <see cref="FluxJobDescription"/>: its resources and the RFC 25 jobspec the Flux backend would submit. Nothing
/// is submitted, no runtime is started (a running one is not used either), no file is written, and each stub's
/// future completes as cancelled.
/// </summary>
/// <example>
/// <code>
/// FluxJobDescription job = FluxDryRun.Describe(() => Physics.SimulateAsync(1000, 0.01, new FluxCallOptions { Cpus = 8 }));
/// Console.WriteLine(job.ToYaml());
/// </code>
/// </example>
public static class FluxDryRun
{
    /// <summary>
    /// Stands for the run directory of the runtime that would make the calls (<see cref="FluxAppsRuntime.WorkingDirectory"/>,
    /// created when it starts) in job directories, worker command lines and output paths: a call's directory is
    /// <c>&lt;run-directory&gt;/c1</c>, <c>c2</c>, ... in the order the calls were made.
    /// </summary>
    public const string RunDirectoryPlaceholder = "<run-directory>";

    /// <summary>Describes the one app call that <paramref name="call"/> makes, without submitting it.</summary>
    /// <param name="call">Calls one generated stub and returns its future, e.g. <c>() =&gt; Physics.SimulateAsync(1000, 0.01)</c>.</param>
    /// <param name="options">How to describe it; null for the defaults.</param>
    /// <returns>The call's resources and jobspec.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="call"/> is null.</exception>
    /// <exception cref="ArgumentException">The call's resources, overrides, retries, caching or pool are invalid, as a real call would throw.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="call"/> made no app call, or more than one (use <see cref="DescribeAll"/>).</exception>
    public static FluxJobDescription Describe(Func<FluxFuture> call, FluxDryRunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        var calls = DryRunCapture.Run(() => call(), options);
        if (calls.Count > 1)
        {
            throw new InvalidOperationException(
                $"FluxDryRun.Describe describes one app call, and this lambda made {calls.Count} ({string.Join(", ", AppNames(calls))}): use FluxDryRun.DescribeAll.");
        }
        return calls[0];
    }

    /// <summary>Describes every app call that <paramref name="calls"/> makes, in the order it makes them, without submitting any.</summary>
    /// <param name="calls">Calls generated stubs (synchronously: calls made after it returns are not part of this dry run).</param>
    /// <param name="options">How to describe them; null for the defaults.</param>
    /// <returns>One description per call.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="calls"/> is null.</exception>
    /// <exception cref="ArgumentException">A call's resources, overrides, retries, caching or pool are invalid, as a real call would throw.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="calls"/> made no app call.</exception>
    public static IReadOnlyList<FluxJobDescription> DescribeAll(Action calls, FluxDryRunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calls);
        return DryRunCapture.Run(calls, options);
    }

    private static IEnumerable<string> AppNames(IReadOnlyList<FluxJobDescription> calls)
    {
        foreach (var d in calls) yield return d.AppName;
    }
}

/// <summary>How <see cref="FluxDryRun"/> describes calls.</summary>
public sealed class FluxDryRunOptions
{
    /// <summary>
    /// The runtime options the calls are described under: their <see cref="FluxAppsOptions.FluxShellOptions"/> go into
    /// the jobspecs and their <see cref="FluxAppsOptions.Pools"/> shape pooled calls. Default: the options of the runtime a
    /// call names (<see cref="FluxCallOptions.Runtime"/>), else of the default runtime when one is running, else the defaults.
    /// </summary>
    public FluxAppsOptions? RuntimeOptions { get; init; }

    /// <summary>
    /// Whether a jobspec's environment holds this process's whole environment, which a job inherits (as
    /// <c>flux submit --dry-run</c> shows it). Default true: the jobspec is the one that would be submitted.
    /// False leaves it out for readability: the environment then holds only what the call sets on top of it
    /// (<see cref="FluxCallOptions.Environment"/>, a command app's <see cref="FluxCommand.Environment"/>, and FluxApps's own
    /// variables); a variable the call removes is not shown.
    /// </summary>
    public bool IncludeCallerEnvironment { get; init; } = true;
}
