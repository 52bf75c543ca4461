using System;
using System.Collections.Generic;
using System.Globalization;
using FluxApps.Internal;

namespace FluxApps.Runtime;

/// <summary>The resources of one call: the attribute's values with the per-call overrides applied, validated.</summary>
internal sealed record JobResources(int Cpus, int Gpus, int MpiRanks, int Nodes, bool Exclusive, string? TimeLimit,
    double TimeLimitSeconds, string? Queue, int Urgency, string Name)
{
    /// <summary>Merges overrides into the app's defaults; throws <see cref="ArgumentException"/> naming the bad value.</summary>
    public static JobResources Resolve(FluxAppDescriptor app, FluxCallOptions? options)
    {
        int cpus = options?.Cpus ?? app.Cpus;
        int gpus = options?.Gpus ?? app.Gpus;
        int ranks = options?.MpiRanks ?? app.MpiRanks;
        int nodes = options?.Nodes ?? app.Nodes;
        bool exclusive = options?.Exclusive ?? app.Exclusive;
        string? timeLimit = options?.TimeLimit ?? app.TimeLimit;
        int urgency = options?.Urgency ?? app.Urgency;
        string name = options?.Name ?? app.Name ?? app.DisplayName;
        string? queue = options?.Queue ?? app.Queue;

        Check(FluxAppRules.CheckCpus(cpus), nameof(FluxCallOptions.Cpus), app);
        Check(FluxAppRules.CheckGpus(gpus), nameof(FluxCallOptions.Gpus), app);
        Check(FluxAppRules.CheckMpiRanks(ranks), nameof(FluxCallOptions.MpiRanks), app);
        Check(FluxAppRules.CheckNodes(nodes), nameof(FluxCallOptions.Nodes), app);
        Check(FluxAppRules.CheckUrgency(urgency), nameof(FluxCallOptions.Urgency), app);
        Check(FluxAppRules.CheckNodesVersusRanks(nodes, ranks), nameof(FluxCallOptions.Nodes), app);
        Check(FluxAppRules.CheckExclusive(exclusive, nodes), nameof(FluxCallOptions.Exclusive), app);
        Check(FluxAppRules.CheckTimeLimit(timeLimit), nameof(FluxCallOptions.TimeLimit), app);
        Check(FluxAppRules.CheckName(name), nameof(FluxCallOptions.Name), app);
        Check(FluxAppRules.CheckQueue(queue), nameof(FluxCallOptions.Queue), app);

        CheckEnvironment(options?.Environment, app);

        double seconds = 0;
        if (timeLimit is not null) FluxAppRules.TryParseDuration(timeLimit, out seconds);
        return new JobResources(cpus, gpus, ranks, nodes, exclusive, timeLimit, seconds, queue, urgency, name);
    }

    /// <summary>
    /// Rejects variables no process environment can hold, on either backend, before anything is submitted.
    /// </summary>
    public static void CheckEnvironment(IReadOnlyDictionary<string, string?>? environment, FluxAppDescriptor app)
    {
        if (environment is null) return;
        foreach (var (name, value) in environment)
        {
            if (WhyInvalidVariable(name, value) is { } problem)
                throw new ArgumentException($"{app.DisplayName}: {problem}.", nameof(FluxCallOptions.Environment));
        }
    }

    /// <summary>Why no process environment can hold this variable (an empty name, '=' in the name, NUL anywhere), or null.</summary>
    public static string? WhyInvalidVariable(string name, string? value)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('=') || name.Contains('\0'))
            return $"environment variable name \"{name}\" is not valid: it must be non-empty, without '=' or NUL";
        if (value is not null && value.Contains('\0'))
            return $"the value of environment variable {name} contains NUL, which no environment can hold";
        return null;
    }

    private static void Check(string? problem, string parameter, FluxAppDescriptor app)
    {
        if (problem is not null) throw new ArgumentException($"{app.DisplayName}: {problem}.", parameter);
    }

    /// <summary>Total cores the job holds.</summary>
    public int TotalCores => Cpus * MpiRanks;

    /// <summary>Total GPUs the job holds.</summary>
    public int TotalGpus => Gpus * MpiRanks;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{MpiRanks} rank(s) x {Cpus} core(s){(Gpus > 0 ? $" + {Gpus} GPU(s)" : "")}{(Nodes > 0 ? $" on {Nodes} node(s)" : "")}{(Exclusive ? " exclusive" : "")}");
}

/// <summary>Everything a backend needs to run one call.</summary>
internal sealed class JobRequest
{
    public JobRequest(FluxFuture future, JobResources resources, string jobDirectory, IReadOnlyDictionary<string, string?>? environment, string workingDirectory)
    {
        Future = future;
        Resources = resources;
        JobDirectory = jobDirectory;
        Environment = environment;
        WorkingDirectory = workingDirectory;
    }

    /// <summary>
    /// The request for one attempt of a call, in call directory <paramref name="jobDirectory"/> (call number
    /// <paramref name="call"/> of its run): what <see cref="CallSubmitter"/> submits and a dry run describes.
    /// </summary>
    public static JobRequest ForCall(FluxFuture future, JobResources resources, FluxCallOptions? options, FluxCommand? command,
        string jobDirectory, long call, IReadOnlyDictionary<string, string?>? environment)
    {
        string cwd = options?.WorkingDirectory ?? System.Environment.CurrentDirectory;
        return new JobRequest(future, resources, jobDirectory, environment, cwd)
        {
            ShellOptions = options?.ShellOptions,
            Command = command is null ? null : RunDirectories.WithOutputPaths(command, cwd, resources.Name, call),
        };
    }

    public FluxFuture Future { get; }
    public FluxAppDescriptor App => Future.App;
    public JobResources Resources { get; }
    public string JobDirectory { get; }
    public IReadOnlyDictionary<string, string?>? Environment { get; }
    public string WorkingDirectory { get; }

    /// <summary>For a command app: the program the tasks run instead of the worker, with its output files resolved.</summary>
    public FluxCommand? Command { get; init; }

    /// <summary>File for the tasks' stdout: the command's, or the call directory's.</summary>
    public string StdoutPath => Command?.StdoutPath ?? System.IO.Path.Combine(JobDirectory, Payload.StdoutFile);

    /// <summary>File for the tasks' stderr: the command's, or the call directory's.</summary>
    public string StderrPath => Command?.StderrPath ?? System.IO.Path.Combine(JobDirectory, Payload.StderrFile);

    /// <summary>What each task runs: the command app's program, or the worker on this call's directory.</summary>
    public IReadOnlyList<string> TaskCommand(WorkerCommand worker) => Command?.CommandLine ?? worker.For(JobDirectory);

    /// <summary>Per-call job shell options (Flux backend), on top of the runtime's.</summary>
    public IReadOnlyDictionary<string, string?>? ShellOptions { get; init; }

    /// <summary>Set by <see cref="CallSubmitter"/>: called once when the backend has the job's outcome.</summary>
    public Action<JobRequest, JobOutcome>? Completed { get; set; }

    public FluxJobId Id { get; set; }
}

/// <summary>How a job ended, as a backend saw it.</summary>
internal abstract record JobOutcome
{
    /// <summary>
    /// The tasks ran to their end: all exited 0 (the job directory holds the result), or the first failing
    /// task, <paramref name="FailedRank"/> (-1 when not known), exited with <paramref name="ExitCode"/> or was
    /// killed by <paramref name="Signal"/>.
    /// </summary>
    public sealed record Finished(int ExitCode, int? Signal, int FailedRank) : JobOutcome
    {
        /// <summary>
        /// True when the backend could not tell an exit from a signal: a signal N reads as exit code 128 + N
        /// (Flux's job shell, <see cref="System.Diagnostics.Process.ExitCode"/>). The runtime then asks the
        /// worker's exit records (<see cref="Payload.ExitFile"/>).
        /// </summary>
        public bool ExitCodeMayBeSignal { get; init; }
    }

    /// <summary>The job ended without running to completion, or failed in the backend.</summary>
    public sealed record Failed(FluxJobException Exception) : JobOutcome;

    /// <summary>The job was cancelled.</summary>
    public sealed record Cancelled : JobOutcome;
}
