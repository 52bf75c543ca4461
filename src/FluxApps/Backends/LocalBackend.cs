using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Runtime;

namespace FluxApps.Backends;

/// <summary>
/// The embedded backend: runs each job's ranks as worker processes on this machine. Jobs hold
/// <c>Cpus x MpiRanks</c> cores (and their GPUs) while they run, ranks are pinned to their cores,
/// jobs wait first-fit (by urgency, then submission order; urgency 0 holds) when the machine is full,
/// and a request that could never fit is rejected at once, as Flux rejects it.
/// </summary>
/// <remarks>
/// Which job gets which cores is <see cref="LocalScheduler{TJob}"/>'s business; this class launches
/// and watches processes. Each job is in exactly one <see cref="LocalJobState"/>, changed only under
/// <c>_gate</c>; its cores return to the scheduler in the one transition to <see cref="LocalJobState.Done"/>,
/// which happens once no rank will start any more and every started rank has exited, and its outcome
/// is reported then (a queued job's at once).
/// </remarks>
internal sealed class LocalBackend : IJobBackend
{
    // With Process (the fallback): runs a command app's program with stdout/stderr appended to its files, then gets out of the way (exec).
    private const string LaunchScript = "exec \"$@\" >>\"$FLUXAPPS_STDOUT\" 2>>\"$FLUXAPPS_STDERR\"";
    // With Process and a job cgroup: the shell joins the cgroup named by its first argument, then runs the rest.
    private const string JoinCgroupScript = "{ echo $$ >\"$1\"; } 2>/dev/null; shift; ";

    private readonly WorkerCommand _worker;
    private readonly JobIdGenerator _ids = new(Environment.ProcessId);
    private readonly int[] _cpus;          // physical CPU of each schedulable core slot
    private readonly string[] _gpus;       // device ids as CUDA numbers them
    private readonly bool _pin;
    private readonly bool _machineHasGpus;
    private readonly NativeSpawner? _spawner;
    private readonly CgroupTree? _cgroups;
    private readonly string _containment;
    private readonly PosixSignalRegistration[] _forwardedSignals;
    private readonly object _gate = new();
    private readonly object _spawnGate = new();
    // Under _gate:
    private readonly LocalScheduler<LocalJob> _scheduler;
    private readonly Dictionary<JobRequest, LocalJob> _jobs = new();
    // A cancel that arrived before its job was submitted (between the runtime's check and Submit): Submit honours it.
    private readonly ConditionalWeakTable<JobRequest, object> _cancelledBeforeSubmit = new();
    private bool _disposed;

    /// <summary>A backend on this machine's cores and GPUs (or those <paramref name="options"/> name), starting <paramref name="worker"/> for app calls.</summary>
    public LocalBackend(FluxAppsOptions options, WorkerCommand worker)
    {
        _worker = worker;
        int[] available = Affinity.GetCurrentThreadCpus() ?? Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        if (available.Length == 0) available = Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        int cores = options.LocalCores ?? available.Length;
        if (cores < 1) throw new ArgumentException($"LocalCores = {cores} is out of range: the local backend needs at least 1 core.");
        // More slots than CPUs (oversubscription on request) share CPUs round-robin.
        _cpus = Enumerable.Range(0, cores).Select(i => available[i % available.Length]).ToArray();
        _gpus = DetectGpus(options.LocalGpus);
        _machineHasGpus = _gpus.Length > 0;
        _scheduler = new LocalScheduler<LocalJob>(_cpus.Length, _gpus.Length);
        _pin = options.PinWorkers && Affinity.IsSupported;
        _spawner = options.LocalSpawnWithProcess ? null : NativeSpawner.Shared;
        _cgroups = CgroupTree.TryCreate(out string noCgroup);
        _containment = _cgroups is not null ? $"cgroup v2 ({_cgroups.Directory})"
            : _spawner is not null ? $"session and process group ({noCgroup})"
            : $"process tree only ({noCgroup})";
        _forwardedSignals = OperatingSystem.IsWindows() ? []
            : new[] { PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGHUP, PosixSignal.SIGTERM }
                .Select(signal => PosixSignalRegistration.Create(signal, ForwardSignal)).ToArray();
    }

    /// <summary>
    /// Ranks lead sessions of their own, out of reach of a terminal's Ctrl+C, Ctrl+\ or hangup and of a signal to
    /// the caller's process group: the caller passes those on to every running rank's process group, then handles the
    /// signal as it would have (the context is not cancelled).
    /// </summary>
    private void ForwardSignal(PosixSignalContext context)
    {
        int signal = context.Signal switch
        {
            PosixSignal.SIGHUP => 1,
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGQUIT => 3,
            _ => 15,
        };
        RankProcess?[] ranks;
        lock (_gate) ranks = _jobs.Values.SelectMany(job => job.Processes).ToArray();
        foreach (var rank in ranks) rank?.Signal(signal);
    }

    public string? InstanceUri => null;

    public (int MaxWorkers, int CpusPerWorker) DefaultPoolShape => (_cpus.Length, 1);

    public string Description =>
        $"local: {_cpus.Length} cores, {_gpus.Length} GPUs, jobs contained by {_containment}, ranks started with {(_spawner is not null ? "posix_spawn" : "System.Diagnostics.Process")}";

    private static string[] DetectGpus(int? requested)
    {
        if (requested is int n)
        {
            if (n < 0) throw new ArgumentException($"LocalGpus = {n} is out of range: use 0 or more.");
            return Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        string? visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        if (visible is not null)
        {
            return visible.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .TakeWhile(id => id != "-1" && id != "NoDevFiles")
                .ToArray();
        }
        try
        {
            return Directory.GetFiles("/dev", "nvidia*")
                .Select(Path.GetFileName)
                .Where(name => name!.Length > 6 && name[6..].All(char.IsAsciiDigit))
                .Select(name => name![6..])
                .OrderBy(id => int.Parse(id, CultureInfo.InvariantCulture))
                .ToArray();
        }
        catch (IOException) { return Array.Empty<string>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<string>(); }
    }

    public void Submit(JobRequest request)
    {
        var job = new LocalJob(request);
        request.Id = _ids.Next();
        request.Future.SetJobId(request.Id);
        // State first, then the event: whoever watches events reads the state it leads to.
        request.Future.SetState(FluxJobState.Sched);
        request.Future.AddEvent("submit", $"urgency={request.Resources.Urgency}");
        string? unsatisfiable = WhyUnsatisfiable(request.Resources);
        if (unsatisfiable is not null)
        {
            job.State = LocalJobState.Done;
            request.Future.RefuseUrgency($"(job {request.Id}) can never run here ({unsatisfiable}): it does not wait in the queue");
            request.Future.AddEvent("exception", "type=alloc severity=0 " + unsatisfiable);
            Report(job, new JobOutcome.Failed(new FluxJobException(
                $"{request.App.DisplayName} (job {request.Id}) can never run here: {unsatisfiable}.",
                FluxJobFailureKind.Rejected, request.App.DisplayName, request.Id, fluxException: "alloc: unsatisfiable request: " + unsatisfiable)));
            return;
        }
        request.Future.SetUrgencyHandler(urgency => SetUrgency(job, urgency));
        var r = request.Resources;
        bool cancelled;
        lock (_gate)
        {
            cancelled = _disposed || _cancelledBeforeSubmit.TryGetValue(request, out _);
            if (cancelled)
            {
                job.State = LocalJobState.Done;
            }
            else
            {
                _jobs[request] = job;
                _scheduler.Enqueue(job, r.Exclusive ? _cpus.Length : r.TotalCores, r.Exclusive ? _gpus.Length : r.TotalGpus, r.Urgency);
            }
        }
        if (cancelled)
        {
            request.Future.AddEvent("exception", "type=cancel severity=0 canceled by user");
            Report(job, new JobOutcome.Cancelled());
            return;
        }
        if (r.Urgency == LocalScheduler<LocalJob>.HoldUrgency) request.Future.AddEvent("priority", "priority=0 (held: urgency 0)");
        Schedule();
    }

    private string? WhyUnsatisfiable(JobResources r)
    {
        if (r.Nodes > 1)
            return $"it asks for Nodes = {r.Nodes}, and the local backend has 1 node (this machine)";
        if (r.Cpus > _cpus.Length || (long)r.Cpus * r.MpiRanks > _cpus.Length)
            return $"it asks for {r.MpiRanks} rank(s) x {r.Cpus} core(s) = {(long)r.Cpus * r.MpiRanks} cores, and this machine has {_cpus.Length}";
        if ((long)r.Gpus * r.MpiRanks > _gpus.Length)
            return $"it asks for {r.MpiRanks} rank(s) x {r.Gpus} GPU(s) = {(long)r.Gpus * r.MpiRanks} GPUs, and this machine has {_gpus.Length}";
        return null;
    }

    /// <summary>Starts every queued job the scheduler says fits now.</summary>
    private void Schedule()
    {
        List<LocalScheduler<LocalJob>.Allocation> starts;
        lock (_gate)
        {
            if (_disposed) return;
            starts = _scheduler.StartWhatFits();
            foreach (var allocation in starts)
            {
                var job = allocation.Job;
                job.Allocation = allocation;
                job.State = LocalJobState.Starting;
                job.Live = 1; // the launcher's own reference: no Done while it may still start ranks
            }
        }
        foreach (var allocation in starts) Start(allocation.Job);
    }

    /// <summary>Changes a queued job's urgency, as <c>flux job urgency</c> does; refused once the job has its cores.</summary>
    private Task SetUrgency(LocalJob job, int urgency)
    {
        var request = job.Request;
        lock (_gate)
        {
            if (job.State != LocalJobState.Queued || !_scheduler.SetUrgency(job, urgency))
            {
                return Task.FromException(new InvalidOperationException(
                    $"{request.App.DisplayName} (job {request.Id}) is {AsFluxState(job.State)}: its urgency can change only while it waits for resources (Sched), as in Flux."));
            }
        }
        request.Future.AddEvent("urgency", $"urgency={urgency}");
        request.Future.AddEvent("priority", urgency == LocalScheduler<LocalJob>.HoldUrgency ? "priority=0 (held: urgency 0)" : $"priority={urgency}");
        Schedule();
        return Task.CompletedTask;
    }

    private static FluxJobState AsFluxState(LocalJobState state) => state switch
    {
        LocalJobState.Queued => FluxJobState.Sched,
        LocalJobState.Starting or LocalJobState.Running => FluxJobState.Run,
        LocalJobState.Stopping => FluxJobState.Cleanup,
        _ => FluxJobState.Inactive,
    };

    /// <summary>Launches a job's ranks; a stop (cancel, time limit, a failed rank) during the launch ends it.</summary>
    private void Start(LocalJob job)
    {
        var request = job.Request;
        var r = request.Resources;
        var future = request.Future;
        var allocation = job.Allocation!;
        future.SetState(FluxJobState.Run);
        future.AddEvent("alloc", $"cores={string.Join(',', allocation.CoreSlots.Select(c => _cpus[c]))}"
            + (allocation.GpuSlots.Length > 0 ? $" gpus={string.Join(',', allocation.GpuSlots.Select(g => _gpus[g]))}" : ""));
        var command = request.TaskCommand(_worker);
        // Made before any rank starts, so none runs outside it.
        job.Cgroup = _cgroups?.CreateJob(request.Id.ToString());
        int coresPerRank = r.Exclusive ? Math.Max(r.Cpus, allocation.CoreSlots.Length / r.MpiRanks) : r.Cpus;
        int gpusPerRank = r.Exclusive ? allocation.GpuSlots.Length / r.MpiRanks : r.Gpus;
        // Read once per job: every rank starts from the caller's environment as it is now.
        System.Collections.IDictionary callerEnvironment = Environment.GetEnvironmentVariables();
        var environment = new List<KeyValuePair<string, string?>>(16);
        for (int rank = 0; rank < r.MpiRanks; rank++)
        {
            var rankCores = allocation.CoreSlots.AsSpan(rank * coresPerRank, coresPerRank).ToArray();
            var rankCpus = rankCores.Select(c => _cpus[c]).Distinct().ToArray();
            string? visibleGpus = !_machineHasGpus ? null
                : gpusPerRank == 0 ? "-1"
                : string.Join(',', allocation.GpuSlots.AsSpan(rank * gpusPerRank, gpusPerRank).ToArray().Select(g => _gpus[g]));
            RankEnvironment(environment, request, rank, rankCpus, visibleGpus);
            RankProcess? process;
            try
            {
                process = _spawner is not null
                    ? StartNative(job, rank, command, environment, callerEnvironment, rankCpus)
                    : StartManaged(job, rank, command, environment, rankCpus);
            }
            catch (Exception ex)
            {
                var failure = new FluxJobException(
                    $"{request.App.DisplayName} (job {request.Id}): could not start rank {rank}: {ex.Message}",
                    FluxJobFailureKind.BackendFailure, request.App.DisplayName, request.Id, inner: ex);
                bool stopped;
                lock (_gate)
                {
                    stopped = TryStopLocked(job, LocalStopReason.LaunchFailed);
                    if (stopped) job.LaunchFailure = failure;
                }
                if (stopped) KillRanks(job);
                break;
            }
            if (process is null) break; // stopped (cancelled, timed out, a rank failed) while starting
            bool stopping;
            lock (_gate) stopping = job.State == LocalJobState.Stopping;
            // Stopped while this rank was being spawned: the stop's kill may have come before it had a pid.
            if (stopping)
            {
                process.KillTree();
                break;
            }
        }
        bool running;
        lock (_gate)
        {
            running = job.State == LocalJobState.Starting;
            if (running) job.State = LocalJobState.Running;
        }
        if (running)
        {
            future.AddEvent("start");
            if (r.TimeLimitSeconds > 0 && !double.IsPositiveInfinity(r.TimeLimitSeconds))
            {
                job.TimeLimitTimer = DeadlineTimer.Start(r.TimeLimitSeconds, static state =>
                    {
                        var (backend, limited) = ((LocalBackend, LocalJob))state!;
                        backend.OnTimeLimit(limited);
                    },
                    (this, job));
            }
        }
        DropReference(job); // the launcher is done: the job ends once its ranks have
    }

    /// <summary>Records a rank about to start (it counts as live until it exits); false when the job stopped starting ranks.</summary>
    private bool RegisterRank(LocalJob job, int rank, RankProcess handle)
    {
        lock (_gate)
        {
            if (job.State != LocalJobState.Starting) return false;
            job.Processes[rank] = handle;
            job.Live++;
            return true;
        }
    }

    /// <summary>Forgets a rank that could not start.</summary>
    private void UnregisterRank(LocalJob job, int rank)
    {
        lock (_gate)
        {
            job.Processes[rank] = null;
            job.Live--;
        }
    }

    /// <summary>
    /// What a rank's environment changes from the caller's, in order (later entries win, null removes):
    /// Flux's job and task variables, the cores and GPUs it holds, then the call's own variables.
    /// </summary>
    private static readonly string s_clientPid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    private void RankEnvironment(List<KeyValuePair<string, string?>> env, JobRequest request, int rank, int[] cpus, string? visibleGpus)
    {
        var r = request.Resources;
        env.Clear();
        env.Add(new("FLUX_URI", null));
        // A caller that is itself a worker must not pass its own output files on.
        env.Add(new(Worker.StandardStreams.StdoutVariable, null));
        env.Add(new(Worker.StandardStreams.StderrVariable, null));
        env.Add(new(WorkerCommand.JobDirectoryVariable, request.JobDirectory));
        env.Add(new("FLUX_JOB_ID", request.Id.ToString()));
        env.Add(new("FLUX_JOB_SIZE", r.MpiRanks.ToString(CultureInfo.InvariantCulture)));
        env.Add(new("FLUX_JOB_NNODES", "1"));
        string rankText = rank.ToString(CultureInfo.InvariantCulture);
        env.Add(new("FLUX_TASK_RANK", rankText));
        env.Add(new("FLUX_TASK_LOCAL_ID", rankText));
        env.Add(new(Worker.ClientWatch.Variable, s_clientPid)); // a worker rank ends with this process (a SIGKILLed client cannot end it)
        env.Add(new("FLUXAPPS_CORES", cpus.Length == 1 ? cpus[0].ToString(CultureInfo.InvariantCulture) : string.Join(',', cpus)));
        if (visibleGpus is not null) env.Add(new("CUDA_VISIBLE_DEVICES", visibleGpus));
        if (request.Environment is not null) env.AddRange(request.Environment);
        if (request.Command?.Environment is not null) env.AddRange(request.Command.Environment);
    }

    /// <summary>Starts a rank with posix_spawn: output files opened for it, a worker or the command's program run directly.</summary>
    private RankProcess? StartNative(LocalJob job, int rank, IReadOnlyList<string> command, List<KeyValuePair<string, string?>> environment,
        System.Collections.IDictionary callerEnvironment, int[] cpus)
    {
        var request = job.Request;
        IReadOnlyList<string> argv = command;
        if (request.Command is not null)
        {
            // Through a shell, so the program is looked up on the job's PATH and a missing one exits 127, as under Flux.
            var viaShell = new List<string>(command.Count + 3) { "/bin/sh", "-c", "exec \"$@\"", "fluxapps-command" };
            viaShell.AddRange(command);
            argv = viaShell;
        }
        var handle = new NativeRank(this, job, rank);
        if (!RegisterRank(job, rank, handle)) return null;
        try
        {
            WithAffinity(cpus, () => handle.Child = _spawner!.Spawn(argv, request.WorkingDirectory, request.StdoutPath, request.StderrPath,
                callerEnvironment, environment, static (status, state) => ((NativeRank)state!).Exited(status), handle, job.Cgroup));
        }
        catch
        {
            UnregisterRank(job, rank);
            throw;
        }
        return handle;
    }

    /// <summary>Starts a rank with <see cref="Process"/> (systems without pidfd or posix_spawn_file_actions_addchdir_np).</summary>
    private RankProcess? StartManaged(LocalJob job, int rank, IReadOnlyList<string> command, List<KeyValuePair<string, string?>> environment, int[] cpus)
    {
        var request = job.Request;
        // Workers redirect their own output (StandardStreams); a command app's program may be anything, so a shell redirects for it.
        // With a cgroup, a shell moves itself into it before it execs the rank: Process gives no moment between the start
        // and the reap at which the pid is sure to be the rank's, so the caller cannot move it safely.
        string? cgroupProcs = job.Cgroup is { } cgroup ? Path.Combine(cgroup.Path, "cgroup.procs") : null;
        bool viaShell = request.Command is not null || cgroupProcs is not null;
        var psi = viaShell ? new ProcessStartInfo("/bin/sh") : new ProcessStartInfo(command[0]);
        psi.UseShellExecute = false;
        psi.WorkingDirectory = request.WorkingDirectory;
        if (viaShell)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add((cgroupProcs is not null ? JoinCgroupScript : "") + (request.Command is not null ? LaunchScript : "exec \"$@\""));
            psi.ArgumentList.Add(request.Command is not null ? "fluxapps-command" : "fluxapps-rank");
            if (cgroupProcs is not null) psi.ArgumentList.Add(cgroupProcs);
        }
        for (int i = 0; i < command.Count; i++) psi.ArgumentList.Add(command[i]);
        var env = psi.Environment;
        foreach (var (key, value) in environment)
        {
            if (value is null) env.Remove(key);
            else env[key] = value;
        }
        if (request.Command is null)
        {
            env[Worker.StandardStreams.StdoutVariable] = request.StdoutPath;
            env[Worker.StandardStreams.StderrVariable] = request.StderrPath;
        }
        else
        {
            env["FLUXAPPS_STDOUT"] = request.StdoutPath;
            env["FLUXAPPS_STDERR"] = request.StderrPath;
        }
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var handle = new ManagedRank(process);
        process.Exited += (_, _) =>
        {
            // Process folds a signal N into exit code 128 + N: the status says which codes are ambiguous.
            ExitStatus status;
            try { status = ExitStatus.Folded(process.ExitCode); }
            catch (InvalidOperationException ex) { status = ExitStatus.Unknown("System.Diagnostics.Process could not read it: " + ex.Message); }
            process.Dispose();
            OnRankExited(job, rank, status);
        };
        if (!RegisterRank(job, rank, handle)) // before Start: Exited may fire at once
        {
            process.Dispose();
            return null;
        }
        try
        {
            WithAffinity(cpus, () => process.Start());
        }
        catch
        {
            process.Dispose();
            UnregisterRank(job, rank);
            throw;
        }
        return handle;
    }

    /// <summary>
    /// Runs <paramref name="start"/> with this thread pinned to <paramref name="cpus"/>: a child inherits the
    /// affinity of the thread that forks it, so the rank is pinned from its first instruction.
    /// </summary>
    private void WithAffinity(int[] cpus, Action start)
    {
        if (!_pin)
        {
            start();
            return;
        }
        lock (_spawnGate)
        {
            Span<byte> original = stackalloc byte[Affinity.MaskBytes];
            bool saved = Affinity.TryGetCurrentThreadMask(original);
            Affinity.SetCurrentThreadCpus(cpus);
            try
            {
                start();
            }
            finally
            {
                if (saved) Affinity.SetCurrentThreadMask(original);
            }
        }
    }

    /// <summary>A started rank: its process, to kill.</summary>
    private abstract class RankProcess
    {
        public abstract void KillTree();

        /// <summary>Passes a signal the caller got on to the rank (natively spawned: its process group).</summary>
        public abstract void Signal(int signal);

        /// <summary>SIGTERM to the rank (and, natively spawned, its descendants): an app on its token ends cleanly.</summary>
        public abstract void TerminateTree();
    }

    private sealed class ManagedRank(Process process) : RankProcess
    {
        public override void Signal(int signal)
        {
            try
            {
                if (!process.HasExited) NativeSpawner.Signal(process.Id, signal);
            }
            catch (InvalidOperationException) { } // not started
        }

        public override void TerminateTree() => Signal(15); // SIGTERM

        public override void KillTree()
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { } // not started, or already exited
            catch (System.ComponentModel.Win32Exception) { }
        }
    }

    private sealed class NativeRank(LocalBackend backend, LocalJob job, int rank) : RankProcess
    {
        public volatile NativeSpawner.Child? Child;

        public void Exited(ExitStatus status) => backend.OnRankExited(job, rank, status);

        public override void KillTree()
        {
            if (Child is { } child) backend._spawner!.KillTree(child);
        }

        public override void TerminateTree()
        {
            if (Child is { } child) backend._spawner!.TerminateTree(child);
        }

        public override void Signal(int signal)
        {
            if (Child is { } child) backend._spawner!.SignalGroup(child, signal);
        }
    }

    private void OnRankExited(LocalJob job, int rank, ExitStatus status)
    {
        if (!status.IsKnown && job.Request.Command is null && Payload.ReadExitRecord(job.Request.JobDirectory, rank) is int recorded)
            status = ExitStatus.Exited(recorded); // the worker recorded its own exit: that is how it ended
        bool killOthers = false;
        lock (_gate)
        {
            if (!status.IsSuccess && job.FirstFailure is null)
            {
                job.FirstFailure = (rank, status);
                killOthers = TryStopLocked(job, LocalStopReason.RankFailed); // one rank failing fails the job: stop the rest now
            }
        }
        if (killOthers) KillRanks(job);
        DropReference(job);
    }

    private void OnTimeLimit(LocalJob job)
    {
        bool stopped;
        lock (_gate) stopped = TryStopLocked(job, LocalStopReason.TimeLimit);
        if (!stopped) return;
        job.Request.Future.AddEvent("exception", "type=timeout severity=0 resource allocation expired");
        if (StopGracefully(job)) return;
        KillRanks(job);
        // Completion waits for the ranks to exit (milliseconds after SIGKILL), so stderr is complete.
    }

    /// <summary>
    /// How long an app that takes the call's token has, after SIGTERM, to end on its own before its ranks get SIGKILL
    /// (Flux's job shell does the same with its kill-timeout). Short: the caller does not wait for it (the outcome is
    /// reported at once), only the job's cores do, until the ranks have exited.
    /// </summary>
    internal static readonly TimeSpan s_killGrace = TimeSpan.FromSeconds(3);

    /// <summary>
    /// For a cancelled or timed-out job whose app takes the call's token: SIGTERM to its ranks (the worker cancels the
    /// token), SIGKILL after <see cref="s_killGrace"/>, and the outcome reported now; the cores come back when the ranks
    /// have exited. False for any other job (killed at once, as before).
    /// </summary>
    private bool StopGracefully(LocalJob job)
    {
        var request = job.Request;
        if (request.Command is not null || !FluxAppRegistry.TakesCancellationToken(request.App.Id)) return false;
        job.KillTimer = new Timer(static state =>
        {
            var (backend, stopping) = ((LocalBackend, LocalJob))state!;
            backend.KillRanks(stopping);
        }, (this, job), s_killGrace, Timeout.InfiniteTimeSpan);
        TerminateRanks(job);
        JobOutcome outcome = job.StopReason == LocalStopReason.TimeLimit ? new JobOutcome.Failed(TimeLimitException(job)) : new JobOutcome.Cancelled();
        lock (_gate)
        {
            if (job.OutcomeReported || job.State == LocalJobState.Done) return true; // the ranks exited already: Ended reported it
            job.OutcomeReported = true;
        }
        Report(job, outcome);
        return true;
    }

    private void TerminateRanks(LocalJob job)
    {
        RankProcess?[] processes;
        lock (_gate) processes = job.Processes.ToArray();
        foreach (var p in processes) p?.TerminateTree();
    }

    /// <summary>Starting or Running becomes Stopping, for <paramref name="reason"/>; false when the job is not running (the first stop wins).</summary>
    private static bool TryStopLocked(LocalJob job, LocalStopReason reason)
    {
        if (job.State is not (LocalJobState.Starting or LocalJobState.Running)) return false;
        job.State = LocalJobState.Stopping;
        job.StopReason = reason;
        return true;
    }

    /// <summary>Drops one live reference (an exited rank, or the finished launcher); the last one ends the job.</summary>
    private void DropReference(LocalJob job)
    {
        lock (_gate)
        {
            if (--job.Live > 0) return;
            if (job.State is not (LocalJobState.Running or LocalJobState.Stopping)) return;
            job.State = LocalJobState.Done;
            _scheduler.Release(job.Allocation!);
            _jobs.Remove(job.Request);
        }
        Ended(job);
        Schedule(); // its cores are free
    }

    /// <summary>After the transition to Done of a job that ran: its last events and its outcome.</summary>
    private void Ended(LocalJob job)
    {
        job.TimeLimitTimer?.Dispose();
        job.KillTimer?.Dispose();
        // Nothing the job started outlives it (as under Flux's job shell): what its ranks left running dies now.
        job.Cgroup?.End();
        var request = job.Request;
        var future = request.Future;
        bool reported;
        lock (_gate)
        {
            reported = job.OutcomeReported;
            job.OutcomeReported = true;
        }
        if (!reported) future.SetState(FluxJobState.Cleanup);
        // Like Flux's finish event: the wait status of the job (its first failing task, else 0).
        var failure = job.FirstFailure;
        if (job.StopReason != LocalStopReason.LaunchFailed || failure is not null)
            future.AddEvent("finish", failure is { } f ? FinishContext(f.Status) : "status=0");
        future.AddEvent("release");
        future.AddEvent("clean");
        JobOutcome outcome = job.StopReason switch
        {
            LocalStopReason.Cancelled => new JobOutcome.Cancelled(),
            LocalStopReason.TimeLimit => new JobOutcome.Failed(TimeLimitException(job)),
            LocalStopReason.LaunchFailed => new JobOutcome.Failed(job.LaunchFailure!),
            _ when failure is { Status.IsKnown: false } unknown => new JobOutcome.Failed(new FluxJobException(
                $"{request.App.DisplayName} (job {request.Id}): rank {unknown.Rank} ended, but how is not known: {unknown.Status.UnknownReason}. "
                + "It is reported as a failure, not as a success it may not have been.",
                FluxJobFailureKind.BackendFailure, request.App.DisplayName, request.Id,
                fluxException: "rank " + unknown.Rank + ": exit status unknown: " + unknown.Status.UnknownReason,
                stderrTail: StderrTail.Read(request.StderrPath))),
            _ when failure is { } failed => new JobOutcome.Finished(failed.Status.Code, failed.Status.Signal, failed.Rank)
            {
                ExitCodeMayBeSignal = failed.Status.CodeMayBeSignal,
            },
            _ => new JobOutcome.Finished(0, null, -1),
        };
        if (!reported) Report(job, outcome); // a graceful stop reported its outcome when it began
    }

    private static string FinishContext(ExitStatus status) =>
        !status.IsKnown ? "status=unknown" : status.Signal is int s ? $"status={s} (signal)" : $"status={status.WaitStatus}";

    private FluxJobException TimeLimitException(LocalJob job)
    {
        var request = job.Request;
        return new FluxJobException(
            $"{request.App.DisplayName} (job {request.Id}) exceeded its time limit of {request.Resources.TimeLimit} and was killed.",
            FluxJobFailureKind.TimeLimit, request.App.DisplayName, request.Id,
            fluxException: $"timeout: resource allocation expired (time limit {request.Resources.TimeLimit})",
            stderrTail: StderrTail.Read(request.StderrPath));
    }

    /// <summary>Reports a Done job's outcome (each job reaches Done once, so this runs once).</summary>
    private static void Report(LocalJob job, JobOutcome outcome)
    {
        try
        {
            job.Request.Completed?.Invoke(job.Request, outcome);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: error completing a call: " + ex);
        }
    }

    private void KillRanks(LocalJob job)
    {
        RankProcess?[] processes;
        lock (_gate) processes = job.Processes.ToArray();
        // The cgroup first: one write kills everything the job started, also what left the ranks' process groups.
        job.Cgroup?.Kill();
        foreach (var p in processes) p?.KillTree();
    }

    public void Cancel(JobRequest request)
    {
        LocalJob? job;
        bool wasQueued;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(request, out job))
            {
                // Not submitted yet (or already over, where this is harmless): Submit will find it cancelled.
                _cancelledBeforeSubmit.AddOrUpdate(request, request);
                return;
            }
            wasQueued = job.State == LocalJobState.Queued;
            if (wasQueued)
            {
                _scheduler.Remove(job);
                _jobs.Remove(request);
                job.State = LocalJobState.Done;
                job.StopReason = LocalStopReason.Cancelled;
            }
            else if (!TryStopLocked(job, LocalStopReason.Cancelled))
            {
                return; // already stopping or over
            }
        }
        request.Future.AddEvent("exception", "type=cancel severity=0 canceled by user");
        if (wasQueued)
        {
            Report(job, new JobOutcome.Cancelled());
            return;
        }
        if (StopGracefully(job)) return;
        // The outcome comes once the killed ranks have exited and the cores are back (milliseconds after SIGKILL).
        KillRanks(job);
    }

    /// <summary>The number of jobs not yet Done (for tests).</summary>
    internal int ActiveJobCount
    {
        get { lock (_gate) return _jobs.Count; }
    }

    /// <summary>Free core slots (for tests).</summary>
    internal int FreeCores
    {
        get { lock (_gate) return _scheduler.FreeCores; }
    }

    public async ValueTask DisposeAsync()
    {
        List<LocalJob> all;
        lock (_gate)
        {
            _disposed = true;
            all = _jobs.Values.ToList();
        }
        foreach (var job in all) Cancel(job.Request);
        // Give killed ranks a moment to be reaped so no worker outlives the runtime.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (_jobs.Count == 0) break;
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
        foreach (var registration in _forwardedSignals) registration.Dispose();
        if (_cgroups is not null) await _cgroups.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One job's life in the local backend; every change happens under the backend's gate.</summary>
    private enum LocalJobState
    {
        /// <summary>In the scheduler's queue (held when its urgency is 0); holds no cores.</summary>
        Queued,
        /// <summary>Holds its cores; its ranks are being launched.</summary>
        Starting,
        /// <summary>Every rank was launched; waiting for them to exit.</summary>
        Running,
        /// <summary>Cancelled, timed out, or a rank failed or could not start: the ranks are being killed.</summary>
        Stopping,
        /// <summary>Over: its cores are back and its outcome is reported.</summary>
        Done,
    }

    /// <summary>Why a job left Starting or Running early (the first reason wins).</summary>
    private enum LocalStopReason
    {
        None,
        Cancelled,
        TimeLimit,
        RankFailed,
        LaunchFailed,
    }

    private sealed class LocalJob(JobRequest request)
    {
        public JobRequest Request { get; } = request;
        // All under the backend's gate:
        public LocalJobState State = LocalJobState.Queued;
        public LocalStopReason StopReason;
        public LocalScheduler<LocalJob>.Allocation? Allocation;
        public readonly RankProcess?[] Processes = new RankProcess?[request.Resources.MpiRanks];
        /// <summary>Started ranks not yet exited, plus one for the launcher while it runs.</summary>
        public int Live;
        public (int Rank, ExitStatus Status)? FirstFailure;
        public FluxJobException? LaunchFailure;
        public DeadlineTimer? TimeLimitTimer;
        /// <summary>The job's cgroup, made when it starts (null without a cgroup tree, or when it could not be made).</summary>
        public CgroupTree.CgroupJob? Cgroup;
        /// <summary>SIGKILL after the grace of a graceful stop (see StopGracefully).</summary>
        public Timer? KillTimer;
        /// <summary>The outcome went to the caller (at the start of a graceful stop, or when the job ended).</summary>
        public bool OutcomeReported;
    }
}
