using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Backends;
using FluxApps.Runtime;
using FluxApps.Serialization;

namespace FluxApps;

/// <summary>
/// Runs app calls on a backend (a Flux instance or the embedded local backend). Start one with
/// <see cref="StartAsync"/>, or let the first stub call start <see cref="Default"/>. Disposing it
/// cancels what is still pending (each such future completes with <see cref="OperationCanceledException"/>)
/// and removes its working directory.
/// </summary>
public sealed class FluxAppsRuntime : IAsyncDisposable
{
    private static readonly object s_defaultGate = new();
    private static readonly object s_defaultStartGate = new();
    private static FluxAppsRuntime? s_default;
    private static bool s_processExitHooked;

    private readonly IJobBackend _backend;
    private readonly ConcurrentDictionary<FluxFuture, JobRequest> _pending = new();
    private readonly WorkerCommand _worker;
    private long _nextDirectory;
    private int _disposed;

    private FluxAppsRuntime(FluxAppsOptions options, FluxBackend backend, string workingDirectory, Func<FluxAppsRuntime, IJobBackend> createBackend)
    {
        Options = options;
        Backend = backend;
        WorkingDirectory = workingDirectory;
        _worker = WorkerCommand.Resolve(workingDirectory);
        _backend = createBackend(this);
    }

    /// <summary>The options the runtime was started with.</summary>
    public FluxAppsOptions Options { get; }

    /// <summary>The backend in use (never <see cref="FluxBackend.Auto"/>).</summary>
    public FluxBackend Backend { get; }

    /// <summary>This runtime's directory for payloads and outputs (private to the user).</summary>
    public string WorkingDirectory { get; }

    /// <summary>A description of the backend, e.g. <c>local: 2 cores, 0 GPUs</c>.</summary>
    public string BackendDescription => _backend.Description;

    /// <summary>The URI of the Flux instance the runtime uses (for the <c>flux</c> CLI: <c>FLUX_URI=... flux jobs</c>); null on the local backend.</summary>
    public string? FluxUri => (_backend as Backends.Flux.FluxJobBackend)?.Connection.Uri;

    /// <summary>Number of calls submitted and not yet completed.</summary>
    public int PendingCount => _pending.Count;

    internal WorkerCommand Worker => _worker;

    /// <summary>
    /// The command that runs one task of a call kept with <see cref="FluxCallOptions.KeepFiles"/>:
    /// run it by hand (with <c>FLUX_TASK_RANK</c> set) to debug an app outside the scheduler.
    /// </summary>
    public IReadOnlyList<string> WorkerCommandLine(string jobDirectory) => _worker.For(jobDirectory);

    /// <summary>
    /// The runtime stub calls use when they name none: the first runtime started and not yet
    /// disposed, or one started now with default options. Starting one may connect to Flux or start
    /// a private Flux instance (see <see cref="FluxBackend.Auto"/>); that blocks the first caller
    /// until the backend is ready, so prefer <see cref="StartAsync"/> where a caller can await.
    /// </summary>
    public static FluxAppsRuntime Default
    {
        get
        {
            lock (s_defaultGate)
            {
                if (s_default is { _disposed: 0 }) return s_default;
            }
            // One implicit start at a time; callers that arrive meanwhile wait and share it.
            lock (s_defaultStartGate)
            {
                lock (s_defaultGate)
                {
                    if (s_default is { _disposed: 0 }) return s_default;
                }
                // On the thread pool, so no synchronization context can deadlock the wait (a
                // private Flux instance takes a few seconds to start).
                var started = Task.Run(() => CreateAsync(new FluxAppsOptions(), CancellationToken.None)).GetAwaiter().GetResult();
                lock (s_defaultGate)
                {
                    if (s_default is { _disposed: 0 } winner)
                    {
                        // StartAsync got there first: keep its runtime, drop ours.
                        started.DisposeAsync().AsTask().GetAwaiter().GetResult();
                        return winner;
                    }
                    s_default = started;
                    HookProcessExit();
                    return started;
                }
            }
        }
    }

    /// <summary>
    /// Starts a runtime: chooses the backend, and for Flux connects to the instance (or starts a
    /// private one and waits for it). The first one started becomes <see cref="Default"/> until it is disposed.
    /// </summary>
    /// <exception cref="FluxConnectionException">The Flux instance cannot be reached or started.</exception>
    /// <exception cref="FluxLibraryNotFoundException">The Flux backend was chosen and libflux-core.so.2 was not found.</exception>
    public static async Task<FluxAppsRuntime> StartAsync(FluxAppsOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var runtime = await CreateAsync(options ?? new FluxAppsOptions(), cancellationToken).ConfigureAwait(false);
        lock (s_defaultGate)
        {
            if (s_default is null || s_default._disposed != 0) s_default = runtime;
        }
        return runtime;
    }

    private static async Task<FluxAppsRuntime> CreateAsync(FluxAppsOptions options, CancellationToken cancellationToken)
    {
        FluxBackend backend = ChooseBackend(options);
        if (backend == FluxBackend.Local)
        {
            string dir = CreateWorkingDirectory(options.WorkingDirectory, local: true);
            return new FluxAppsRuntime(options, backend, dir, rt => new LocalBackend(rt));
        }
        if (backend != FluxBackend.Flux) throw new ArgumentException($"Backend = {backend} is not a backend: use Auto, Flux or Local.");
        // Check the shell options now, so a typo fails at start rather than on every call.
        Backends.Flux.ShellOptions.Merge(options.FluxShellOptions);
        var session = await Backends.Flux.FluxSession.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            string dir = CreateWorkingDirectory(options.WorkingDirectory);
            return new FluxAppsRuntime(options, backend, dir, rt => new Backends.Flux.FluxJobBackend(rt, session));
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Resolves <see cref="FluxBackend.Auto"/>: <c>FLUXAPPS_BACKEND</c>, then an instance to connect
    /// to (<see cref="FluxAppsOptions.FluxUri"/> or <c>FLUX_URI</c>), then <c>flux</c> on PATH (a private
    /// instance), else local.
    /// </summary>
    internal static FluxBackend ChooseBackend(FluxAppsOptions options)
    {
        if (options.Backend != FluxBackend.Auto) return options.Backend;
        string? env = Environment.GetEnvironmentVariable("FLUXAPPS_BACKEND");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return env.Trim().ToLowerInvariant() switch
            {
                "flux" => FluxBackend.Flux,
                "local" => FluxBackend.Local,
                _ => throw new ArgumentException($"FLUXAPPS_BACKEND = \"{env}\" is not a backend: use \"flux\" or \"local\"."),
            };
        }
        if (Backends.Flux.FluxSession.ConfiguredUri(options) is not null) return FluxBackend.Flux;
        if (Backends.Flux.FluxLibrary.FindFluxOnPath() is not null) return FluxBackend.Flux;
        return FluxBackend.Local;
    }

    private static string CreateWorkingDirectory(string? requested, bool local = false)
    {
        string name = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        string? root = requested ?? Environment.GetEnvironmentVariable("FLUXAPPS_WORKDIR");
        if (root is null && local && MemoryBackedDirectory() is { } memory)
        {
            // Local workers share this machine's memory: their files need not reach a disk. The
            // directory sits directly in the shared tmpfs (sticky, so no one else can remove it),
            // private to the user, with an unguessable name.
            string dir = Path.Combine(memory, "fluxapps-" + name);
            CreatePrivateDirectory(dir);
            return dir;
        }
        root ??= Path.Combine(HomeDirectory(), ".fluxapps", "runs");
        CreatePrivateDirectory(root);
        string runDir = Path.Combine(root, name);
        CreatePrivateDirectory(runDir);
        return runDir;
    }

    /// <summary>A memory-backed directory for the local backend's files: <c>$XDG_RUNTIME_DIR</c>, else <c>/dev/shm</c>, else null.</summary>
    private static string? MemoryBackedDirectory()
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtimeDir) && Directory.Exists(runtimeDir)) return runtimeDir;
        return Directory.Exists("/dev/shm") ? "/dev/shm" : null;
    }

    private static string HomeDirectory()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? Path.GetTempPath() : home;
    }

    internal static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static void HookProcessExit()
    {
        if (s_processExitHooked) return;
        s_processExitHooked = true;
        // An implicitly started runtime has no owner to dispose it: stop its workers at exit.
        AppDomain.CurrentDomain.ProcessExit += static (_, _) =>
        {
            FluxAppsRuntime? rt;
            lock (s_defaultGate) rt = s_default;
            rt?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        };
    }

    /// <summary>Submits one call. Called by <see cref="FluxAppInvoker"/>.</summary>
    internal void Submit(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, CancellationToken cancellationToken,
        FluxCommand? command = null)
    {
        if (_disposed != 0)
            throw new ObjectDisposedException(nameof(FluxAppsRuntime), "This FluxAppsRuntime was disposed; start a new one.");
        if (cancellationToken.IsCancellationRequested)
        {
            future.TrySetCanceled(cancellationToken);
            return;
        }
        int retries = RetryPolicy.ResolveRetries(future.App, options);
        bool cache = CheckpointStore.Resolve(future.App, options, command is not null);
        if (cancellationToken.CanBeCanceled)
        {
            // For the whole call: every attempt, the waits between them, or the identical call it waits for.
            var registration = cancellationToken.Register(static state => ((FluxFuture)state!).Cancel(), future);
            future.AsTask().ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        StartCall(future, arguments, resources, options, command, retries, cache, cancellationToken);
    }

    /// <summary>The store of cached results, opened on first use.</summary>
    internal CheckpointStore Checkpoints
    {
        get
        {
            // One store per runtime, even when its first cached calls race: it is what makes identical calls share a job.
            if (Volatile.Read(ref _checkpoints) is { } store) return store;
            Interlocked.CompareExchange(ref _checkpoints, new CheckpointStore(CheckpointStore.DirectoryFor(Options)), null);
            return _checkpoints!;
        }
    }

    private CheckpointStore? _checkpoints;

    private void StartCall(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, FluxCommand? command,
        int retries, bool cache, CancellationToken cancellationToken)
    {
        if (cache && arguments is not null && Checkpoints.TryServe(future, arguments.WrittenSpan,
                () => StartCall(future, arguments, resources, options, command, retries, cache, cancellationToken)))
            return;
        if (retries > 0)
        {
            future.Retry = new RetryPolicy.Attempt(this, future, arguments, resources, options, command, retries,
                future.App.RetryOnAppException, cancellationToken);
        }
        SubmitAttempt(future, arguments, resources, options, command);
    }

    internal bool IsDisposed => _disposed != 0;

    /// <summary>Submits one attempt of a call as a new job (a retried call makes several).</summary>
    internal void SubmitAttempt(FluxFuture future, FluxWriter? arguments, JobResources resources, FluxCallOptions? options, FluxCommand? command)
    {
        // Cancelled or disposed before (or while waiting for) this attempt: no job.
        if (future.IsCompleted || future.CancelRequested || _disposed != 0)
        {
            future.TrySetCanceled(CancellationToken.None);
            return;
        }
        future.CountAttempt();
        long call = Interlocked.Increment(ref _nextDirectory);
        string jobDir = Path.Combine(WorkingDirectory, "c" + call.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string cwd = options?.WorkingDirectory ?? Environment.CurrentDirectory;
        var request = new JobRequest(future, resources, jobDir, options?.Environment, cwd)
        {
            ShellOptions = options?.ShellOptions,
            Command = command is null ? null : WithOutputPaths(command, cwd, resources.Name, call),
        };
        bool keep = options?.KeepFiles ?? Options.KeepJobFiles;
        request.Completed = (job, outcome) => Complete(job, outcome, keep);
        _pending[future] = request;
        try
        {
            Directory.CreateDirectory(jobDir);
            if (arguments is not null) Payload.WriteArguments(Path.Combine(jobDir, Payload.ArgumentsFile), future.App, arguments.WrittenSpan);
        }
        catch (Exception ex)
        {
            Complete(request, new JobOutcome.Failed(new FluxJobException(
                $"{future.AppName}: could not write the call's payload to {jobDir}: {ex.Message}", FluxJobFailureKind.BackendFailure,
                future.AppName, null, inner: ex)), keep);
            return;
        }
        future.SetCancelAction(() => _backend.Cancel(request));
        _backend.Submit(request);
        // Cancel() that came before its action was in place: the job just submitted goes too.
        if (future.CancelRequested) _backend.Cancel(request);
    }

    /// <summary>
    /// A command's output files, defaulting to <c>&lt;name&gt;-&lt;time&gt;-&lt;pid&gt;-&lt;call&gt;.out/.err</c>
    /// in the job's working directory: they are the command's results and outlive the call.
    /// </summary>
    private static FluxCommand WithOutputPaths(FluxCommand command, string workingDirectory, string jobName, long call)
    {
        if (command.StdoutPath is not null && command.StderrPath is not null) return command;
        var safe = new System.Text.StringBuilder(jobName.Length);
        foreach (char c in jobName) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        string stem = Path.Combine(workingDirectory, $"{safe}-{s_processStamp}-{call}");
        return new FluxCommand(command.Program, [.. command.Arguments])
        {
            Environment = command.Environment,
            StdoutPath = command.StdoutPath ?? stem + ".out",
            StderrPath = command.StderrPath ?? stem + ".err",
        };
    }

    private static readonly string s_processStamp = $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}";

    private void Complete(JobRequest job, JobOutcome outcome, bool keepFiles)
    {
        var future = job.Future;
        Action settle;
        try
        {
            settle = outcome switch
            {
                JobOutcome.Cancelled => () => future.TrySetCanceled(CancellationToken.None),
                JobOutcome.Failed failed => () => future.TrySetException(failed.Exception),
                JobOutcome.Finished finished => OutcomeFromFiles(job, finished),
                _ => throw new InvalidOperationException("unknown outcome " + outcome),
            };
        }
        catch (Exception ex)
        {
            settle = () => future.TrySetException(new FluxJobException(
                $"{future.AppName} (job {job.Id}): its result could not be read: {ex.Message}", FluxJobFailureKind.BadResult,
                future.AppName, job.Id, inner: ex));
        }
        // Files go before the future completes, so a caller that awaited it finds them gone.
        future.SetState(FluxJobState.Inactive);
        _pending.TryRemove(future, out _);
        if (!keepFiles) TryDeleteDirectory(job.JobDirectory);
        try
        {
            settle();
        }
        catch (Exception ex)
        {
            future.TrySetException(new FluxJobException(
                $"{future.AppName} (job {job.Id}): its result could not be decoded: {ex.Message}", FluxJobFailureKind.BadResult,
                future.AppName, job.Id, inner: ex));
        }
    }

    /// <summary>Reads what the job left (result or error reports) and returns how to settle the future.</summary>
    private static Action OutcomeFromFiles(JobRequest job, JobOutcome.Finished finished)
    {
        var future = job.Future;
        finished = WithExactExitStatus(job, finished);
        if (job.Command is not null)
        {
            // A command app's outcome is its exit status: the program's own business, not an error.
            int exitCode = finished.Signal is int s ? 128 + s : finished.ExitCode;
            var commandResult = new FluxCommandResult(job.Id, exitCode, finished.Signal, job.StdoutPath, job.StderrPath);
            return () => future.TrySetValue(commandResult);
        }
        Payload.ErrorReport? error = FirstErrorReport(job.JobDirectory, job.Resources.MpiRanks, finished.FailedRank);
        if (error is not null)
        {
            if (error.Kind == Payload.ErrorKind.AppException)
            {
                var appException = new FluxAppException(future.AppName, job.Id, error.Rank, error.Type, error.Message, error.StackTrace);
                return () => future.TrySetException(appException);
            }
            var refused = new FluxJobException(
                $"{future.AppName} (job {job.Id}): the worker refused the call on rank {error.Rank}: {error.Message}",
                FluxJobFailureKind.BadResult, future.AppName, job.Id, finished.ExitCode, finished.Signal, stderrTail: StderrTail(job.StderrPath));
            return () => future.TrySetException(refused);
        }
        if (finished.Signal is int signal)
        {
            var signaled = new FluxJobException(
                $"{future.AppName} (job {job.Id}): rank {finished.FailedRank} was killed by signal {signal} ({SignalName(signal)}).",
                FluxJobFailureKind.Signaled, future.AppName, job.Id, null, signal, stderrTail: StderrTail(job.StderrPath));
            return () => future.TrySetException(signaled);
        }
        if (finished.ExitCode != 0)
        {
            var exited = new FluxJobException(
                $"{future.AppName} (job {job.Id}): rank {finished.FailedRank} exited with code {finished.ExitCode} without a result.",
                FluxJobFailureKind.Exited, future.AppName, job.Id, finished.ExitCode, null, stderrTail: StderrTail(job.StderrPath));
            return () => future.TrySetException(exited);
        }
        string resultPath = Path.Combine(job.JobDirectory, Payload.ResultFile);
        if (!File.Exists(resultPath))
        {
            var missing = new FluxJobException(
                $"{future.AppName} (job {job.Id}): rank 0 exited normally but wrote no result to {resultPath}.",
                FluxJobFailureKind.BadResult, future.AppName, job.Id, 0, stderrTail: StderrTail(job.StderrPath));
            return () => future.TrySetException(missing);
        }
        var result = Payload.ReadResult(resultPath); // the whole payload is in memory: the file may go
        return () => future.SetResult(result);
    }

    /// <summary>
    /// The failing task's status, exact where it can be: where the backend folded a signal N into exit code
    /// 128 + N (Flux's job shell, System.Diagnostics.Process), the workers' exit records decide: a rank that
    /// recorded that code exited with it, and when none did, a signal killed it (a killed process records
    /// nothing). A command app's program records nothing, so its code stays an exit code (see FluxCommandResult).
    /// </summary>
    internal static JobOutcome.Finished WithExactExitStatus(JobRequest job, JobOutcome.Finished finished)
    {
        int code = finished.ExitCode;
        if (!finished.ExitCodeMayBeSignal || finished.Signal is not null || code <= 128 || code > 128 + 64) return finished;
        if (job.Command is not null) return finished with { ExitCodeMayBeSignal = false };
        bool exited = finished.FailedRank >= 0
            ? Payload.ReadExitRecord(job.JobDirectory, finished.FailedRank) == code
            : Enumerable.Range(0, job.Resources.MpiRanks).Any(rank => Payload.ReadExitRecord(job.JobDirectory, rank) == code);
        return exited
            ? finished with { ExitCodeMayBeSignal = false }
            : finished with { ExitCode = 0, Signal = code - 128, ExitCodeMayBeSignal = false };
    }

    private static Payload.ErrorReport? FirstErrorReport(string jobDirectory, int ranks, int preferredRank)
    {
        if (preferredRank >= 0)
        {
            string preferred = Path.Combine(jobDirectory, Payload.ErrorFile(preferredRank));
            if (File.Exists(preferred)) return Payload.ReadError(preferred);
        }
        for (int rank = 0; rank < ranks; rank++)
        {
            string path = Path.Combine(jobDirectory, Payload.ErrorFile(rank));
            if (File.Exists(path)) return Payload.ReadError(path);
        }
        return null;
    }

    /// <summary>The last lines of a job's stderr file (at most 4 KiB), or empty.</summary>
    internal static string StderrTail(string path, int maxBytes = 4096)
    {
        try
        {
            if (!File.Exists(path)) return "";
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long start = Math.Max(0, fs.Length - maxBytes);
            fs.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(fs);
            string text = reader.ReadToEnd();
            if (start > 0)
            {
                int nl = text.IndexOf('\n');
                if (nl >= 0) text = text[(nl + 1)..];
            }
            return text;
        }
        catch (IOException)
        {
            return "";
        }
    }

    internal static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 11 => "SIGSEGV", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM", 24 => "SIGXCPU",
        _ => "signal " + signal,
    };

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Cancels every pending call (their futures complete as cancelled), stops the backend and removes the working directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (s_defaultGate)
        {
            if (ReferenceEquals(s_default, this)) s_default = null;
        }
        foreach (var request in _pending.Values) _backend.Cancel(request);
        await _backend.DisposeAsync().ConfigureAwait(false);
        foreach (var request in _pending.Values) request.Future.TrySetCanceled(CancellationToken.None);
        if (!Options.KeepJobFiles) TryDeleteDirectory(WorkingDirectory);
    }
}
