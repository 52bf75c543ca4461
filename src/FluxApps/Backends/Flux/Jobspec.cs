using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using FluxApps.Runtime;

namespace FluxApps.Backends.Flux;

/// <summary>Everything one jobspec is built from.</summary>
internal sealed class JobspecInput
{
    public JobspecInput(JobResources resources, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        Resources = resources;
        Command = command;
        Environment = environment;
        WorkingDirectory = workingDirectory;
    }

    public JobResources Resources { get; }

    /// <summary>The task's command line (argv).</summary>
    public IReadOnlyList<string> Command { get; }

    /// <summary>The job's whole environment (Flux gives a job exactly this; no PATH if absent).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public string WorkingDirectory { get; }

    /// <summary>File for the tasks' stdout (all tasks, one file), or null for Flux's default (the KVS).</summary>
    public string? StdoutPath { get; init; }

    /// <summary>File for the tasks' stderr, or null for Flux's default.</summary>
    public string? StderrPath { get; init; }

    /// <summary>Job shell options (<c>attributes.system.shell.options</c>), already merged.</summary>
    public ShellOptions ShellOptions { get; init; } = ShellOptions.Empty;
}

/// <summary>
/// Builds RFC 25 (jobspec V1) JSON the way <c>flux submit</c> does: <c>MpiRanks</c> tasks, one per
/// slot of <c>Cpus</c> cores (and <c>Gpus</c> GPUs); with <c>Nodes</c>, the slots spread over that
/// many nodes (whole nodes with <c>Exclusive</c>); duration from the time limit (0 = none); queue,
/// job name, cwd, environment, stdout/stderr files and shell options in <c>attributes.system</c>.
/// Urgency is not part of a jobspec: it goes with the submit request.
/// </summary>
internal static class Jobspec
{
    public const string TaskSlotLabel = "task";

    /// <summary>The jobspec as compact JSON.</summary>
    public static string Build(JobspecInput input)
    {
        var r = input.Resources;
        if (input.Command.Count == 0) throw new ArgumentException("A jobspec needs a command.", nameof(input));
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            w.WriteStartObject();

            w.WriteStartArray("resources");
            int slots = r.Nodes > 0 ? (r.MpiRanks + r.Nodes - 1) / r.Nodes : r.MpiRanks; // per node when Nodes is set
            if (r.Nodes > 0)
            {
                w.WriteStartObject();
                w.WriteString("type", "node");
                w.WriteNumber("count", r.Nodes);
                // RFC 25's prose allows exclusive on the node vertex, and that is where Flux's
                // schedulers read it (its bundled schema file lists it under slot only: see the tests).
                if (r.Exclusive) w.WriteBoolean("exclusive", true);
                w.WriteStartArray("with");
                WriteSlot(w, slots, r);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
            {
                WriteSlot(w, slots, r);
            }
            w.WriteEndArray();

            w.WriteStartArray("tasks");
            w.WriteStartObject();
            w.WriteStartArray("command");
            foreach (string arg in input.Command) w.WriteStringValue(arg);
            w.WriteEndArray();
            w.WriteString("slot", TaskSlotLabel);
            w.WriteStartObject("count");
            if (r.Nodes > 0 && r.MpiRanks % r.Nodes != 0) w.WriteNumber("total", r.MpiRanks); // uneven: some slots stay empty
            else w.WriteNumber("per_slot", 1);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();

            w.WriteStartObject("attributes");
            w.WriteStartObject("system");
            w.WriteNumber("duration", DurationSeconds(r));
            if (r.Queue is not null) w.WriteString("queue", r.Queue);
            w.WriteString("cwd", input.WorkingDirectory);
            w.WriteStartObject("environment");
            foreach (var (key, value) in input.Environment) w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteStartObject("job");
            w.WriteString("name", r.Name);
            w.WriteEndObject();
            var shell = input.ShellOptions;
            if (input.StdoutPath is not null) shell = shell.With("output.stdout.type", "file").With("output.stdout.path", ShellOptions.Quote(input.StdoutPath));
            if (input.StderrPath is not null) shell = shell.With("output.stderr.type", "file").With("output.stderr.path", ShellOptions.Quote(input.StderrPath));
            if (!shell.IsEmpty)
            {
                w.WriteStartObject("shell");
                w.WritePropertyName("options");
                shell.WriteTo(w);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteNumber("version", 1);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteSlot(Utf8JsonWriter w, int count, JobResources r)
    {
        w.WriteStartObject();
        w.WriteString("type", "slot");
        w.WriteNumber("count", count);
        w.WriteString("label", TaskSlotLabel);
        w.WriteStartArray("with");
        w.WriteStartObject();
        w.WriteString("type", "core");
        w.WriteNumber("count", r.Cpus);
        w.WriteEndObject();
        if (r.Gpus > 0)
        {
            w.WriteStartObject();
            w.WriteString("type", "gpu");
            w.WriteNumber("count", r.Gpus);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Seconds for <c>attributes.system.duration</c>: the time limit, or 0 (unlimited).</summary>
    public static double DurationSeconds(JobResources r) =>
        r.TimeLimitSeconds > 0 && !double.IsInfinity(r.TimeLimitSeconds) && !double.IsNaN(r.TimeLimitSeconds) ? r.TimeLimitSeconds : 0;

    /// <summary>
    /// The job's environment: the caller's (as Flux's CLI passes it), then the call's overrides
    /// (null removes a variable), then <c>FLUXAPPS_JOB_DIR</c> (a NativeAOT worker finds its job with it).
    /// Sorted by name so the jobspec is deterministic.
    /// </summary>
    public static SortedDictionary<string, string> ComposeEnvironment(IDictionary callerEnvironment,
        IReadOnlyDictionary<string, string?>? overrides, string jobDirectory, IReadOnlyDictionary<string, string?>? commandEnvironment = null)
    {
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in callerEnvironment)
        {
            if (e.Key is string key && e.Value is string value && key.Length > 0) env[key] = value;
        }
        foreach (var layer in new[] { overrides, commandEnvironment })
        {
            if (layer is null) continue;
            foreach (var (key, value) in layer)
            {
                if (JobResources.WhyInvalidVariable(key, value) is { } problem) throw new ArgumentException(problem + ".");
                if (value is null) env.Remove(key);
                else env[key] = value;
            }
        }
        env[WorkerCommand.JobDirectoryVariable] = jobDirectory;
        // Flux's shell writes the output files; a caller that is itself a local worker must not pass its own on.
        env.Remove(Worker.StandardStreams.StdoutVariable);
        env.Remove(Worker.StandardStreams.StderrVariable);
        return env;
    }
}
