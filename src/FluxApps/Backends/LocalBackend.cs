using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Runtime;

namespace FluxApps.Backends;

/// <summary>
/// The embedded backend: runs each job's ranks as worker processes on this machine. Jobs hold
/// <c>Cpus x MpiRanks</c> cores (and their GPUs) while they run, ranks are pinned to their cores,
/// jobs wait first-fit (by urgency, then submission order) when the machine is full, and a
/// request that could never fit is rejected at once, as Flux rejects it.
/// </summary>
internal sealed class LocalBackend : IJobBackend
{
    // With Process (the fallback): runs a command app's program with stdout/stderr appended to its files, then gets out of the way (exec).
    private const string LaunchScript = "exec \"$@\" >>\"$FLUXAPPS_STDOUT\" 2>>\"$FLUXAPPS_STDERR\"";

    private readonly FluxAppsRuntime _runtime;
    private readonly JobIdGenerator _ids = new(Environment.ProcessId);
    private readonly int[] _cpus;          // physical CPU of each schedulable core slot
    private readonly string[] _gpus;       // device ids as CUDA numbers them
    private readonly bool[] _coreBusy;
    private readonly bool[] _gpuBusy;
    private readonly bool _pin;
    private readonly bool _machineHasGpus;
    private readonly NativeSpawner? _spawner;
    private readonly object _gate = new();
    private readonly object _spawnGate = new();
    private readonly SortedSet<LocalJob> _queue = new(LocalJob.QueueOrder);
    private readonly Dictionary<JobRequest, LocalJob> _jobs = new();
    private long _sequence;
    private bool _disposed;

    public LocalBackend(FluxAppsRuntime runtime)
    {
        _runtime = runtime;
        int[] available = Affinity.GetCurrentThreadCpus() ?? Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        if (available.Length == 0) available = Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        int cores = runtime.Options.LocalCores ?? available.Length;
        if (cores < 1) throw new ArgumentException($"LocalCores = {cores} is out of range: the local backend needs at least 1 core.");
        // More slots than CPUs (oversubscription on request) share CPUs round-robin.
        _cpus = Enumerable.Range(0, cores).Select(i => available[i % available.Length]).ToArray();
        _gpus = DetectGpus(runtime.Options.LocalGpus);
        _machineHasGpus = _gpus.Length > 0;
        _coreBusy = new bool[_cpus.Length];
        _gpuBusy = new bool[_gpus.Length];
        _pin = runtime.Options.PinWorkers && Affinity.IsSupported;
        _spawner = runtime.Options.LocalSpawnWithProcess ? null : NativeSpawner.Shared;
    }

    public string Description => $"local: {_cpus.Length} cores, {_gpus.Length} GPUs, ranks started with {(_spawner is not null ? "posix_spawn" : "System.Diagnostics.Process")}";

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

    public void Submit(JobRequest job)
    {
        var local = new LocalJob(job, Interlocked.Increment(ref _sequence));
        job.Id = _ids.Next();
        job.Future.SetJobId(job.Id);
        job.Future.AddEvent("submit", $"urgency={job.Resources.Urgency}");
        job.Future.SetState(FluxJobState.Sched);
        string? unsatisfiable = WhyUnsatisfiable(job.Resources);
        if (unsatisfiable is not null)
        {
            job.Future.AddEvent("exception", "type=alloc severity=0 " + unsatisfiable);
            Finish(local, new JobOutcome.Failed(new FluxJobException(
                $"{job.App.DisplayName} (job {job.Id}) can never run here: {unsatisfiable}.",
                FluxJobFailureKind.Rejected, job.App.DisplayName, job.Id, fluxException: "alloc: unsatisfiable request: " + unsatisfiable)));
            return;
        }
        lock (_gate)
        {
            if (_disposed)
            {
                local.Completed = true;
            }
            else
            {
                _jobs[job] = local;
                _queue.Add(local);
            }
        }
        if (local.Completed)
        {
            job.Completed?.Invoke(job, new JobOutcome.Cancelled());
            return;
        }
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

    /// <summary>Starts every queued job that fits now, in queue order (first fit).</summary>
    private void Schedule()
    {
        List<LocalJob>? toStart = null;
        lock (_gate)
        {
            if (_disposed) return;
            int freeCores = _coreBusy.Count(b => !b);
            int freeGpus = _gpuBusy.Count(b => !b);
            foreach (var job in _queue)
            {
                if (freeCores == 0) break;
                var r = job.Request.Resources;
                int needCores = r.Exclusive ? _cpus.Length : r.TotalCores;
                int needGpus = r.Exclusive ? _gpus.Length : r.TotalGpus;
                if (needCores > freeCores || needGpus > freeGpus) continue;
                job.Cores = Take(_coreBusy, needCores);
                job.Gpus = Take(_gpuBusy, needGpus);
                freeCores -= needCores;
                freeGpus -= needGpus;
                (toStart ??= new()).Add(job);
            }
            if (toStart is not null)
                foreach (var job in toStart) _queue.Remove(job);
        }
        if (toStart is null) return;
        foreach (var job in toStart) Start(job);
    }

    private static int[] Take(bool[] busy, int count)
    {
        var taken = new int[count];
        int n = 0;
        for (int i = 0; i < busy.Length && n < count; i++)
        {
            if (busy[i]) continue;
            busy[i] = true;
            taken[n++] = i;
        }
        return taken;
    }

    private void Start(LocalJob job)
    {
        var request = job.Request;
        var r = request.Resources;
        var future = request.Future;
        future.AddEvent("alloc", $"cores={string.Join(',', job.Cores.Select(c => _cpus[c]))}" + (job.Gpus.Length > 0 ? $" gpus={string.Join(',', job.Gpus.Select(g => _gpus[g]))}" : ""));
        future.SetState(FluxJobState.Run);
        job.Processes = new RankProcess?[r.MpiRanks];
        var command = request.TaskCommand(_runtime.Worker);
        int coresPerRank = r.Exclusive ? Math.Max(r.Cpus, job.Cores.Length / r.MpiRanks) : r.Cpus;
        int gpusPerRank = r.Exclusive ? job.Gpus.Length / r.MpiRanks : r.Gpus;
        // Read once per job: every rank starts from the caller's environment as it is now.
        System.Collections.IDictionary callerEnvironment = Environment.GetEnvironmentVariables();
        var environment = new List<KeyValuePair<string, string?>>(16);
        for (int rank = 0; rank < r.MpiRanks; rank++)
        {
            lock (_gate)
            {
                if (job.Stopping) break; // cancelled or timed out while starting
            }
            var rankCores = job.Cores.AsSpan(rank * coresPerRank, coresPerRank).ToArray();
            var rankCpus = rankCores.Select(c => _cpus[c]).Distinct().ToArray();
            string? visibleGpus = !_machineHasGpus ? null
                : gpusPerRank == 0 ? "-1"
                : string.Join(',', job.Gpus.AsSpan(rank * gpusPerRank, gpusPerRank).ToArray().Select(g => _gpus[g]));
            RankEnvironment(environment, request, rank, rankCpus, visibleGpus);
            RankProcess process;
            try
            {
                process = _spawner is not null
                    ? StartNative(job, rank, command, environment, callerEnvironment, rankCpus)
                    : StartManaged(job, rank, command, environment, rankCpus);
            }
            catch (Exception ex)
            {
                lock (_gate) job.Stopping = true;
                KillRanks(job);
                // Ranks never started count as exited so the job can still finish.
                lock (_gate) job.Exited += r.MpiRanks - rank;
                Finish(job, new JobOutcome.Failed(new FluxJobException(
                    $"{request.App.DisplayName} (job {request.Id}): could not start rank {rank}: {ex.Message}",
                    FluxJobFailureKind.BackendFailure, request.App.DisplayName, request.Id, inner: ex)));
                ReleaseIfDone(job);
                return;
            }
        }
        future.AddEvent("start");
        if (r.TimeLimitSeconds > 0 && !double.IsPositiveInfinity(r.TimeLimitSeconds))
        {
            job.TimeLimitTimer = new Timer(static state =>
                {
                    var (backend, limited) = ((LocalBackend, LocalJob))state!;
                    backend.OnTimeLimit(limited);
                },
                (this, job), TimeSpan.FromSeconds(Math.Min(r.TimeLimitSeconds, int.MaxValue / 1000.0)), Timeout.InfiniteTimeSpan);
        }
        lock (_gate)
        {
            // Cancelled while starting: the processes started after Cancel looked must go too.
            if (!job.Stopping) return;
        }
        KillRanks(job);
    }

    /// <summary>
    /// What a rank's environment changes from the caller's, in order (later entries win, null removes):
    /// Flux's job and task variables, the cores and GPUs it holds, then the call's own variables.
    /// </summary>
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
        env.Add(new("FLUXAPPS_CORES", cpus.Length == 1 ? cpus[0].ToString(CultureInfo.InvariantCulture) : string.Join(',', cpus)));
        if (visibleGpus is not null) env.Add(new("CUDA_VISIBLE_DEVICES", visibleGpus));
        if (request.Environment is not null) env.AddRange(request.Environment);
        if (request.Command?.Environment is not null) env.AddRange(request.Command.Environment);
    }

    /// <summary>Starts a rank with posix_spawn: output files opened for it, a worker or the command's program run directly.</summary>
    private RankProcess StartNative(LocalJob job, int rank, IReadOnlyList<string> command, List<KeyValuePair<string, string?>> environment,
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
        lock (_gate) job.Processes![rank] = handle;
        WithAffinity(cpus, () => handle.Child = _spawner!.Spawn(argv, request.WorkingDirectory, request.StdoutPath, request.StderrPath,
            callerEnvironment, environment, static (exitCode, state) => ((NativeRank)state!).Exited(exitCode), handle));
        return handle;
    }

    /// <summary>Starts a rank with <see cref="Process"/> (systems without pidfd or posix_spawn_file_actions_addchdir_np).</summary>
    private RankProcess StartManaged(LocalJob job, int rank, IReadOnlyList<string> command, List<KeyValuePair<string, string?>> environment, int[] cpus)
    {
        var request = job.Request;
        // Workers redirect their own output (StandardStreams); a command app's program may be anything, so a shell redirects for it.
        var psi = request.Command is null ? new ProcessStartInfo(command[0]) : new ProcessStartInfo("/bin/sh");
        psi.UseShellExecute = false;
        psi.WorkingDirectory = request.WorkingDirectory;
        if (request.Command is not null)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(LaunchScript);
            psi.ArgumentList.Add("fluxapps-command");
            psi.ArgumentList.Add(command[0]);
        }
        for (int i = 1; i < command.Count; i++) psi.ArgumentList.Add(command[i]);
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
            int exitCode = 0;
            try { exitCode = process.ExitCode; } catch (InvalidOperationException) { }
            process.Dispose();
            OnRankExited(job, rank, exitCode);
        };
        lock (_gate) job.Processes![rank] = handle; // before Start: Exited may fire at once
        try
        {
            WithAffinity(cpus, () => process.Start());
        }
        catch
        {
            process.Dispose();
            lock (_gate) job.Processes![rank] = null;
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
    }

    private sealed class ManagedRank(Process process) : RankProcess
    {
        public override void KillTree()
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
        }
    }

    private sealed class NativeRank(LocalBackend backend, LocalJob job, int rank) : RankProcess
    {
        public volatile NativeSpawner.Child? Child;

        public void Exited(int exitCode) => backend.OnRankExited(job, rank, exitCode);

        public override void KillTree()
        {
            if (Child is { } child) backend._spawner!.KillTree(child);
        }
    }

    private void OnRankExited(LocalJob job, int rank, int exitCode)
    {
        bool killOthers = false;
        bool last;
        lock (_gate)
        {
            if (exitCode != 0 && job.FailedRank < 0)
            {
                job.FailedRank = rank;
                job.ExitCode = exitCode;
                killOthers = true;
            }
            job.Exited++;
            last = job.Exited >= job.Request.Resources.MpiRanks;
        }
        if (killOthers && !last) KillRanks(job); // one rank failing fails the job: stop the rest now
        if (!last) return;
        job.TimeLimitTimer?.Dispose();
        var future = job.Request.Future;
        future.SetState(FluxJobState.Cleanup);
        // Like Flux's finish event: the wait status of the job (worst task).
        int status = job.ExitCode;
        int? signal = status > 128 && status < 128 + 65 ? status - 128 : null;
        future.AddEvent("finish", signal is int s ? $"status={s} (signal)" : $"status={status << 8}");
        JobOutcome outcome;
        lock (_gate)
        {
            outcome = job.TimedOut
                ? new JobOutcome.Failed(TimeLimitException(job))
                : job.Cancelled ? new JobOutcome.Cancelled() : new JobOutcome.Finished(signal is null ? status : 0, signal, job.FailedRank);
        }
        ReleaseIfDone(job);
        future.AddEvent("clean");
        Finish(job, outcome);
    }

    private FluxJobException TimeLimitException(LocalJob job)
    {
        var request = job.Request;
        return new FluxJobException(
            $"{request.App.DisplayName} (job {request.Id}) exceeded its time limit of {request.Resources.TimeLimit} and was killed.",
            FluxJobFailureKind.TimeLimit, request.App.DisplayName, request.Id,
            fluxException: $"timeout: resource allocation expired (time limit {request.Resources.TimeLimit})",
            stderrTail: FluxAppsRuntime.StderrTail(request.StderrPath));
    }

    private void OnTimeLimit(LocalJob job)
    {
        lock (_gate)
        {
            if (job.Stopping || job.Completed) return;
            job.Stopping = true;
            job.TimedOut = true;
        }
        job.Request.Future.AddEvent("exception", "type=timeout severity=0 resource allocation expired");
        KillRanks(job);
        // Completion waits for the ranks to exit (milliseconds after SIGKILL), so stderr is complete.
    }

    private void ReleaseIfDone(LocalJob job)
    {
        lock (_gate)
        {
            if (job.Released || job.Exited < job.Request.Resources.MpiRanks) return;
            job.Released = true;
            foreach (int c in job.Cores) _coreBusy[c] = false;
            foreach (int g in job.Gpus) _gpuBusy[g] = false;
            _jobs.Remove(job.Request);
        }
        job.Request.Future.AddEvent("release");
        Schedule();
    }

    private void Finish(LocalJob job, JobOutcome outcome)
    {
        lock (_gate)
        {
            if (job.Completed) return;
            job.Completed = true;
        }
        job.Request.Completed?.Invoke(job.Request, outcome);
    }

    private void KillRanks(LocalJob job)
    {
        RankProcess?[] processes;
        lock (_gate) processes = job.Processes?.ToArray() ?? Array.Empty<RankProcess?>();
        foreach (var p in processes) p?.KillTree();
    }

    public void Cancel(JobRequest request)
    {
        LocalJob? job;
        bool queued = false;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(request, out job) || job.Stopping || job.Completed) return;
            job.Stopping = true;
            job.Cancelled = true;
            if (_queue.Remove(job))
            {
                queued = true;
                _jobs.Remove(request);
            }
        }
        request.Future.AddEvent("exception", "type=cancel severity=0 canceled by user");
        if (!queued) KillRanks(job);
        // The future completes now; the cores return once the killed ranks have exited.
        Finish(job, new JobOutcome.Cancelled());
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
                if (all.All(j => j.Exited >= (j.Processes?.Count(p => p is not null) ?? 0))) break;
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    private sealed class LocalJob
    {
        public static readonly IComparer<LocalJob> QueueOrder = Comparer<LocalJob>.Create((a, b) =>
        {
            int byUrgency = b.Request.Resources.Urgency.CompareTo(a.Request.Resources.Urgency);
            return byUrgency != 0 ? byUrgency : a.Sequence.CompareTo(b.Sequence);
        });

        public LocalJob(JobRequest request, long sequence)
        {
            Request = request;
            Sequence = sequence;
        }

        public JobRequest Request { get; }
        public long Sequence { get; }
        public int[] Cores = Array.Empty<int>();
        public int[] Gpus = Array.Empty<int>();
        public RankProcess?[]? Processes;
        public Timer? TimeLimitTimer;
        public int Exited;
        public int FailedRank = -1;
        public int ExitCode;
        public bool Stopping;
        public bool Cancelled;
        public bool TimedOut;
        public bool Completed;
        public bool Released;
    }
}
