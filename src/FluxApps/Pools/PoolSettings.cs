using System;
using System.Collections.Generic;
using FluxApps.Internal;
using FluxApps.Runtime;

namespace FluxApps.Pools;

/// <summary>
/// One pool's settings with the defaults filled in (<see cref="FluxPoolOptions"/> null properties), checked, and
/// the checks of a call against them: which per-call options a pool cannot honour.
/// </summary>
internal sealed record PoolSettings(string Name, int MaxWorkers, int CpusPerWorker, int GpusPerWorker, string? TimeLimit,
    double TimeLimitSeconds, TimeSpan IdleTimeout, string? Queue)
{
    /// <summary>Urgency of the worker jobs: Flux's default.</summary>
    private const int WorkerUrgency = 16;

    /// <summary>The name of the pool's worker jobs (what <c>flux jobs</c> shows): <c>fluxapps-pool-&lt;name&gt;</c>.</summary>
    public string WorkerJobName => "fluxapps-pool-" + Name;

    /// <summary>What the pool's worker jobs run as: an app of their own, for the backend's bookkeeping and their futures.</summary>
    public FluxAppDescriptor WorkerApp() => new("FluxApps.PoolWorker", $"pool {Name} worker", typeof(WorkerPool), CpusPerWorker,
        GpusPerWorker, 1, 0, false, TimeLimit, Queue, WorkerUrgency, WorkerJobName);

    /// <summary>The resources of one worker job: one task with the pool's cores and GPUs per worker.</summary>
    public JobResources WorkerResources() => new(CpusPerWorker, GpusPerWorker, 1, 0, false, TimeLimit, TimeLimitSeconds, Queue, WorkerUrgency,
        WorkerJobName);

    /// <summary>How long an idle worker waits for a call before it ends, unless the pool says otherwise.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The settings of pool <paramref name="name"/>: its entry in <paramref name="configured"/>, or the default pool.</summary>
    /// <param name="name">The pool's name.</param>
    /// <param name="configured">The runtime's <see cref="FluxAppsOptions.Pools"/>.</param>
    /// <param name="machineWorkers">Default <see cref="MaxWorkers"/> for one core per worker (local) or one worker per node (Flux).</param>
    /// <param name="machineCpusPerWorker">Default <see cref="CpusPerWorker"/>.</param>
    /// <exception cref="ArgumentException">A configured value is out of range; the message names it.</exception>
    public static PoolSettings Resolve(string name, IReadOnlyList<FluxPoolOptions>? configured, int machineWorkers, int machineCpusPerWorker)
    {
        FluxPoolOptions? options = null;
        if (configured is not null)
        {
            foreach (var candidate in configured)
            {
                if (candidate is not null && string.Equals(candidate.Name, name, StringComparison.Ordinal))
                {
                    options = candidate;
                    break;
                }
            }
        }
        int cpus = options?.CpusPerWorker ?? machineCpusPerWorker;
        if (cpus < 1) throw Invalid(name, nameof(FluxPoolOptions.CpusPerWorker), $"CpusPerWorker = {cpus}: a worker needs at least 1 core");
        int gpus = options?.GpusPerWorker ?? 0;
        if (gpus < 0) throw Invalid(name, nameof(FluxPoolOptions.GpusPerWorker), $"GpusPerWorker = {gpus}: use 0 or more");
        int workers = options?.MaxWorkers ?? Math.Max(1, options?.CpusPerWorker is int c ? machineWorkers * machineCpusPerWorker / c : machineWorkers);
        if (workers < 1) throw Invalid(name, nameof(FluxPoolOptions.MaxWorkers), $"MaxWorkers = {workers}: a pool needs at least 1 worker");
        var idle = options?.IdleTimeout ?? DefaultIdleTimeout;
        if (idle <= TimeSpan.Zero) throw Invalid(name, nameof(FluxPoolOptions.IdleTimeout), $"IdleTimeout = {idle}: use a positive duration");
        string? timeLimit = options?.TimeLimit;
        if (FluxAppRules.CheckTimeLimit(timeLimit) is { } problem) throw Invalid(name, nameof(FluxPoolOptions.TimeLimit), problem);
        double seconds = 0;
        if (timeLimit is not null) FluxAppRules.TryParseDuration(timeLimit, out seconds);
        if (FluxAppRules.CheckQueue(options?.Queue) is { } queueProblem) throw Invalid(name, nameof(FluxPoolOptions.Queue), queueProblem);
        return new PoolSettings(name, workers, cpus, gpus, timeLimit, seconds, idle, options?.Queue);
    }

    /// <summary>The pool a call runs in: the per-call choice, else the attribute's; null for a job of its own.</summary>
    public static string? PoolOf(FluxAppDescriptor app, FluxCallOptions? options)
    {
        string? pool = options?.Pool ?? app.Pool;
        return string.IsNullOrEmpty(pool) ? null : pool;
    }

    /// <summary>
    /// Refuses a pooled call that asks for what only a job of its own can give, naming the option:
    /// several ranks, nodes, whole nodes, a queue, its own environment, working directory or shell options,
    /// a command, or more cores or GPUs than a worker holds.
    /// </summary>
    public void CheckCall(FluxAppDescriptor app, JobResources resources, FluxCallOptions? options, bool isCommand)
    {
        string where = $"{app.DisplayName} runs in pool \"{Name}\"";
        if (isCommand)
            throw new ArgumentException($"{where}, but it is a command app (it returns FluxCommand): a command runs as a job of its own; use Pool = \"\".", nameof(FluxCallOptions.Pool));
        if (resources.MpiRanks > 1)
            throw new ArgumentException($"{where}, and MpiRanks = {resources.MpiRanks}: a pooled call runs as one task inside a worker; use Pool = \"\" for MPI.", nameof(FluxCallOptions.MpiRanks));
        if (resources.Nodes > 0)
            throw new ArgumentException($"{where}, and Nodes = {resources.Nodes}: a pooled call runs where its worker is.", nameof(FluxCallOptions.Nodes));
        if (resources.Exclusive)
            throw new ArgumentException($"{where}, and Exclusive = true: a pooled call shares its worker's node.", nameof(FluxCallOptions.Exclusive));
        if (options?.Queue is not null)
            throw new ArgumentException($"{where}, and Queue = \"{options.Queue}\": a pool's workers have one queue (FluxPoolOptions.Queue).", nameof(FluxCallOptions.Queue));
        if (options?.Environment is not null)
            throw new ArgumentException($"{where}, and sets Environment: calls share their worker's environment.", nameof(FluxCallOptions.Environment));
        if (options?.WorkingDirectory is not null)
            throw new ArgumentException($"{where}, and sets WorkingDirectory = \"{options.WorkingDirectory}\": calls share their worker's working directory.", nameof(FluxCallOptions.WorkingDirectory));
        if (options?.ShellOptions is not null)
            throw new ArgumentException($"{where}, and sets ShellOptions: a pooled call has no job shell of its own.", nameof(FluxCallOptions.ShellOptions));
        if (resources.Cpus > CpusPerWorker)
            throw new ArgumentException($"{where}, and Cpus = {resources.Cpus}: its workers have {CpusPerWorker} core(s) each (FluxPoolOptions.CpusPerWorker).", nameof(FluxCallOptions.Cpus));
        if (resources.Gpus > GpusPerWorker)
            throw new ArgumentException($"{where}, and Gpus = {resources.Gpus}: its workers have {GpusPerWorker} GPU(s) each (FluxPoolOptions.GpusPerWorker).", nameof(FluxCallOptions.Gpus));
    }

    private static ArgumentException Invalid(string pool, string option, string problem) =>
        new($"pool \"{pool}\": {problem}.", option);
}
