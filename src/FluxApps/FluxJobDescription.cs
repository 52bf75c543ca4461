using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FluxApps.Runtime;

namespace FluxApps;

/// <summary>
/// What one app call would submit, from <see cref="FluxDryRun"/>: the call's resources (the attribute's with the
/// per-call overrides applied) and the RFC 25 jobspec the Flux backend would submit for it (<see cref="ToJson"/>,
/// <see cref="ToYaml"/>). The local backend runs the same <see cref="CommandLine"/> with the same resources.
/// </summary>
/// <remarks>
/// A call that runs in a pool (<see cref="Pool"/> not null) is no job of its own: it runs inside one of the pool's
/// workers, long-lived jobs that each run many calls. Its resource properties are then the call's share of a
/// worker, and its jobspec, <see cref="CommandLine"/>, <see cref="WorkingDirectory"/> and <see cref="Environment"/>
/// are those of the job of one worker of that pool (started when calls wait and the pool has room for another worker).
/// Paths under the runtime's run directory, which exists only once a runtime starts, begin with
/// <see cref="FluxDryRun.RunDirectoryPlaceholder"/>, and so do the pool's connection details.
/// </remarks>
public sealed class FluxJobDescription
{
    private readonly string _jobspec;

    internal FluxJobDescription(FluxAppDescriptor app, JobResources resources, string? pool, bool isCommand, int retries, bool cache,
        IReadOnlyList<string> commandLine, string jobDirectory, string jobspec)
    {
        AppName = app.DisplayName;
        JobName = resources.Name;
        Cpus = resources.Cpus;
        Gpus = resources.Gpus;
        MpiRanks = resources.MpiRanks;
        Nodes = resources.Nodes;
        Exclusive = resources.Exclusive;
        TimeLimit = resources.TimeLimit;
        Queue = resources.Queue;
        Urgency = resources.Urgency;
        Pool = pool;
        IsCommand = isCommand;
        Retries = retries;
        Cache = cache;
        CommandLine = commandLine;
        JobDirectory = jobDirectory;
        _jobspec = jobspec;
        using var document = JsonDocument.Parse(jobspec);
        var system = document.RootElement.GetProperty("attributes").GetProperty("system");
        WorkingDirectory = system.GetProperty("cwd").GetString()!;
        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in system.GetProperty("environment").EnumerateObject()) environment[variable.Name] = variable.Value.GetString()!;
        Environment = environment;
    }

    /// <summary>The app, e.g. <c>Physics.Simulate</c>.</summary>
    public string AppName { get; }

    /// <summary>The call's job name (<see cref="FluxCallOptions.Name"/>, the attribute's, or the app's name).</summary>
    public string JobName { get; }

    /// <summary>Cores per rank.</summary>
    public int Cpus { get; }

    /// <summary>GPUs per rank.</summary>
    public int Gpus { get; }

    /// <summary>Ranks (tasks).</summary>
    public int MpiRanks { get; }

    /// <summary>Nodes the ranks spread over; 0 lets the scheduler choose.</summary>
    public int Nodes { get; }

    /// <summary>Whole nodes.</summary>
    public bool Exclusive { get; }

    /// <summary>The time limit as a Flux Standard Duration (<c>"10m"</c>), or null for none.</summary>
    public string? TimeLimit { get; }

    /// <summary>The queue, or null for the instance's default.</summary>
    public string? Queue { get; }

    /// <summary>Urgency 0–31 (it goes with the submit request, not in the jobspec; 0 holds the job).</summary>
    public int Urgency { get; }

    /// <summary>Resubmissions after a system failure (<see cref="FluxAppAttribute.Retries"/>); each one is a new job like this.</summary>
    public int Retries { get; }

    /// <summary>
    /// Whether the call uses the checkpoint (<see cref="FluxAppAttribute.Cache"/>): a stored result would answer it
    /// without any job; this describes the job it makes when there is none.
    /// </summary>
    public bool Cache { get; }

    /// <summary>
    /// The pool the call would run in, or null when it is a job of its own. When set, the call is no job of its own and
    /// the jobspec is that of one of the pool's workers (see the remarks of <see cref="FluxJobDescription"/>).
    /// </summary>
    public string? Pool { get; }

    /// <summary>True for a command app (<see cref="FluxCommand"/>): its tasks run the app's command line, not a worker.</summary>
    public bool IsCommand { get; }

    /// <summary>
    /// What each task runs (argv): the worker on the call's directory (<c>dotnet exec ... FluxApps.dll DIR</c>, or a NativeAOT
    /// program re-run as <c>PROGRAM --fluxapps-worker DIR</c>), a command app's command line, or a pool worker's command line.
    /// </summary>
    public IReadOnlyList<string> CommandLine { get; }

    /// <summary>The call's directory (or the pool worker's), under <see cref="FluxDryRun.RunDirectoryPlaceholder"/>: arguments, result and output files.</summary>
    public string JobDirectory { get; }

    /// <summary>The tasks' working directory (<c>attributes.system.cwd</c>).</summary>
    public string WorkingDirectory { get; }

    /// <summary>The job's environment as the jobspec gives it (see <see cref="FluxDryRunOptions.IncludeCallerEnvironment"/>), by name.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>The RFC 25 jobspec as JSON (the same JSON value the Flux backend submits; non-ASCII text is not escaped).</summary>
    /// <param name="indented">Indent it over several lines (default), or one line.</param>
    public string ToJson(bool indented = true)
    {
        using var document = JsonDocument.Parse(_jobspec);
        var buffer = new ArrayBufferWriter<byte>(_jobspec.Length * 2);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.RootElement.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The RFC 25 jobspec as block-style YAML (the same data as <see cref="ToJson"/>), ending with a newline.</summary>
    public string ToYaml() => YamlEmitter.FromJson(_jobspec);

    /// <summary>
    /// One line on what the call asks for, e.g. <c>Physics.Simulate: job "Physics.Simulate", 8 ranks x 4 cores + 1 GPU, time limit 10m, urgency 16</c>;
    /// for a pooled call, that it runs in a worker of its pool.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder(AppName).Append(": ");
        if (Pool is not null)
            text.Append(CultureInfo.InvariantCulture, $"a call in a worker of pool \"{Pool}\" (no job of its own; the jobspec is a worker's), ");
        else
            text.Append(CultureInfo.InvariantCulture, $"{(IsCommand ? "command " : "")}job \"{JobName}\", ");
        text.Append(CultureInfo.InvariantCulture, $"{Plural(MpiRanks, "rank")} x {Plural(Cpus, "core")}");
        if (Gpus > 0) text.Append(CultureInfo.InvariantCulture, $" + {Plural(Gpus, "GPU")}");
        if (Nodes > 0) text.Append(CultureInfo.InvariantCulture, $" on {Plural(Nodes, "node")}{(Exclusive ? " (exclusive)" : "")}");
        text.Append(", time limit ").Append(TimeLimit ?? "none");
        if (Queue is not null) text.Append(", queue ").Append(Queue);
        text.Append(CultureInfo.InvariantCulture, $", urgency {Urgency}");
        if (Retries > 0) text.Append(CultureInfo.InvariantCulture, $", {Plural(Retries, "retry", "retries")}");
        if (Cache) text.Append(", cached");
        return text.ToString();
    }

    private static string Plural(int count, string one, string? many = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many ?? one + "s")}");
}
