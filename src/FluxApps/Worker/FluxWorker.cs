using System;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Threading;
using FluxApps.Runtime;
using FluxApps.Telemetry;
using FluxApps.Serialization;

namespace FluxApps.Worker;

/// <summary>
/// The worker side of an app call, run inside each task of a job: read the arguments payload,
/// find the registered app, invoke it, write rank 0's result or this rank's error report.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FluxWorker
{
    /// <summary>Exit code of a rank whose app threw (its error report is written).</summary>
    public const int AppFailedExitCode = 1;

    /// <summary>Exit code of a rank that could not run the app (its error report is written).</summary>
    public const int WorkerFailedExitCode = 2;

    /// <summary>SIGALRM on Linux: what Flux sends a job that passed its time limit.</summary>
    private const int SigAlrm = 14;

    // 1 once a module initializer has taken this process's job: nested or later initializers leave it alone.
    private static int s_workerClaimed;

    /// <summary>
    /// For programs that are their own worker (published NativeAOT or single-file), which have no
    /// separate worker host: when this process was started as <c>PROGRAM --fluxapps-worker JOBDIR</c>,
    /// runs the call and exits before <c>Main</c>. Each assembly's generated module initializer calls
    /// this after registering its apps; NativeAOT runs every module initializer at start-up, in
    /// dependency order, so the call runs in the initializer of the assembly that holds the app
    /// (or of the entry assembly, or where the app cannot be found at all, which reports the error).
    /// </summary>
    public static void RunIfWorkerProcess(Assembly assembly)
    {
        string[] argv = Environment.GetCommandLineArgs();
        if (argv.Length < 2 || !string.Equals(argv[1], WorkerCommand.SelfWorkerArgument, StringComparison.Ordinal)) return;
        if (Volatile.Read(ref s_workerClaimed) != 0) return;
        string? jobDir = argv.Length > 2 ? argv[2] : Environment.GetEnvironmentVariable(WorkerCommand.JobDirectoryVariable);
        if (string.Equals(jobDir, WorkerCommand.PoolArgument, StringComparison.Ordinal))
        {
            // A pool worker loads each call's app as it comes: wait for the entry assembly, whose initializer runs last (after its dependencies').
            if (RuntimeFeature.IsDynamicCodeSupported || assembly == Assembly.GetEntryAssembly())
            {
                if (Interlocked.Exchange(ref s_workerClaimed, 1) != 0) return;
                Environment.Exit(PoolWorkerHost.Run());
            }
            return;
        }
        if (!IsThisAssemblysTurn(assembly, jobDir)) return;
        if (Interlocked.Exchange(ref s_workerClaimed, 1) != 0) return;
        Environment.Exit(Run(jobDir));
    }

    /// <summary>
    /// Whether the initializer of <paramref name="assembly"/> should run the call now: its app is
    /// registered, or no later initializer could register it (it names this assembly, or the entry
    /// assembly, or an assembly the program does not have), or the payload cannot be read (the run
    /// reports why).
    /// </summary>
    private static bool IsThisAssemblysTurn(Assembly assembly, string? jobDirectory)
    {
        if (string.IsNullOrEmpty(jobDirectory)) return true;
        Payload.ArgumentsHeader header;
        try
        {
            string argsPath = Path.Combine(jobDirectory, Payload.ArgumentsFile);
            header = Payload.ReadArgumentsHeader(new FluxReader(ReadArguments(argsPath)), argsPath);
        }
        catch (Exception)
        {
            return true;
        }
        if (FluxAppRegistry.TryGet(header.AppId, out _, out _)) return true;
        // Under JIT (single-file) initializers run lazily, so none is sure to come before Main: run now, loading the app's assembly.
        if (RuntimeFeature.IsDynamicCodeSupported) return true;
        if (assembly == Assembly.GetEntryAssembly() || string.Equals(assembly.GetName().Name, header.AssemblyName, StringComparison.Ordinal)) return true;
        try
        {
            Assembly.Load(new AssemblyName(header.AssemblyName));
            return false; // the app's own assembly is part of the program: its initializer runs the call
        }
        catch (Exception)
        {
            return true;
        }
    }

    // The arguments payload, read once: every module initializer's turn check and the run share it.
    private static string? s_argumentsPath;
    private static byte[]? s_arguments;

    private static byte[] ReadArguments(string argsPath)
    {
        if (s_arguments is not null && string.Equals(s_argumentsPath, argsPath, StringComparison.Ordinal)) return s_arguments;
        byte[] bytes = RawFile.ReadAllBytes(argsPath);
        s_argumentsPath = argsPath;
        s_arguments = bytes;
        return bytes;
    }

    /// <summary>Runs the call in <paramref name="jobDirectory"/> on this task's rank; returns the exit code.</summary>
    public static int Run(string? jobDirectory)
    {
        StandardStreams.RedirectFromEnvironment();
        ClientWatch.Start();
        int rank = ParseNonNegative(Environment.GetEnvironmentVariable("FLUX_TASK_RANK"), 0);
        if (string.IsNullOrEmpty(jobDirectory))
        {
            Console.Error.WriteLine("FluxApps worker: no job directory given (argument or FLUXAPPS_JOB_DIR).");
            return WorkerFailedExitCode;
        }
        // The exit code, however the process exits normally (returning, or the app calling Environment.Exit);
        // a signal leaves no record, which is how the caller tells exit 128 + N from signal N.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Payload.WriteExitRecord(jobDirectory, rank, Environment.ExitCode);
        FluxReader? arguments = null;
        FluxWriter? result = null;
        object? activity = null; // the call's activity (WorkerActivity) when it carries a trace
        try
        {
            string argsPath = Path.Combine(jobDirectory, Payload.ArgumentsFile);
            arguments = new FluxReader(ReadArguments(argsPath));
            var header = Payload.ReadArgumentsHeader(arguments, argsPath);
            var (app, entry) = FindApp(header);
            FluxAppRegistry.RunWorkerStartups();
            // After the start-up methods, so a listener one of them set up sees the call's activity.
            activity = WorkerActivity.Start(app.DisplayName, Environment.GetEnvironmentVariable(TraceContext.TraceParentVariable),
                Environment.GetEnvironmentVariable(TraceContext.TraceStateVariable));
            // An app that takes the call's token: SIGTERM (a cancel or time limit, sent before SIGKILL by the local
            // backend and by Flux's job shell) cancels it, so the app can end cleanly. Other apps keep the default,
            // which ends the process at once; registering costs their start-up nothing.
            using var cancellation = FluxAppRegistry.TakesCancellationToken(header.AppId) ? new CancellationTokenSource() : null;
            Action<PosixSignalContext> cancel = context =>
            {
                context.Cancel = true; // the app ends on its token; the sender's SIGKILL follows if it does not
                try
                {
                    cancellation!.Cancel();
                }
                catch (AggregateException ex)
                {
                    Console.Error.WriteLine($"FluxApps worker: a cancellation callback threw: {ex.InnerException?.Message}");
                }
                catch (ObjectDisposedException)
                {
                    // the call is already over
                }
            };
            using var sigterm = cancellation is null ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, cancel);
            // Flux's job shell signals a job past its time limit with SIGALRM (then SIGKILL after its kill-timeout).
            using var sigalrm = cancellation is null ? null : PosixSignalRegistration.Create((PosixSignal)SigAlrm, cancel);
            result = Payload.BeginResult();
            var pending = entry(arguments, result, cancellation?.Token ?? CancellationToken.None);
            if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
            WorkerActivity.Stop(activity, null);
            if (rank == 0) Payload.WriteFile(Path.Combine(jobDirectory, Payload.ResultFile), result.WrittenSpan);
            return Exiting(0);
        }
        catch (Exception ex)
        {
            WorkerActivity.Stop(activity, ex);
            var report = ErrorReportFor(ex, arguments, result, rank);
            bool appThrew = report.Kind == Payload.ErrorKind.AppException;
            try
            {
                Payload.WriteError(Path.Combine(jobDirectory, Payload.ErrorFile(rank)), report);
            }
            catch (Exception writeFailure)
            {
                Console.Error.WriteLine($"FluxApps worker: could not write the error report: {writeFailure.Message}");
            }
            Console.Error.WriteLine($"FluxApps worker rank {rank}: {report.Message}");
            return Exiting(appThrew ? AppFailedExitCode : WorkerFailedExitCode);
        }
    }

    /// <summary>
    /// What a failed call reports: the app's own exception when the arguments were read and no result was begun,
    /// otherwise the worker's failure (arguments unreadable, app not found, result not serializable).
    /// </summary>
    internal static Payload.ErrorReport ErrorReportFor(Exception ex, FluxReader? arguments, FluxWriter? result, int rank)
    {
        bool appThrew = arguments is { ArgumentsCompleted: true } && result is { ResultStarted: false };
        return appThrew
            ? new Payload.ErrorReport(Payload.ErrorKind.AppException, rank, ex.GetType().FullName ?? ex.GetType().Name, ex.Message, ex.ToString())
            : new Payload.ErrorReport(Payload.ErrorKind.WorkerError, rank, ex.GetType().FullName ?? ex.GetType().Name,
                result is { ResultStarted: true } ? "the result could not be serialized: " + ex.Message : ex.Message, ex.ToString());
    }

    /// <summary>Sets the code the exit record will hold (a host may run ProcessExit before it latches Main's return value).</summary>
    private static int Exiting(int exitCode)
    {
        Environment.ExitCode = exitCode;
        return exitCode;
    }

    /// <summary>
    /// A non-negative integer from the environment, or <paramref name="fallback"/>. Parsed by hand: the first use of
    /// <see cref="CultureInfo"/> loads ICU, which would cost a NativeAOT worker several milliseconds.
    /// </summary>
    internal static int ParseNonNegative(string? text, int fallback)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 9) return fallback;
        int value = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return fallback;
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /// <summary>The registered app a payload names (loading its assembly if need be), checked to be of the payload's build.</summary>
    internal static (FluxAppDescriptor App, FluxAppCancellableEntryPoint Entry) FindApp(Payload.ArgumentsHeader header)
    {
        var (app, entry) = FindRegistered(header);
        if (app.BuildId != header.BuildId)
            throw new FluxPayloadException(
                $"the payload for {header.AppId} comes from another build of {header.AssemblyName} (payload build {header.BuildId}, this worker's build {app.BuildId}): rebuild and resubmit from the same program.");
        return (app, entry);
    }

    private static (FluxAppDescriptor App, FluxAppCancellableEntryPoint Entry) FindRegistered(Payload.ArgumentsHeader header)
    {
        if (FluxAppRegistry.TryGetCancellable(header.AppId, out var app, out var entry)) return (app, entry);
        Assembly assembly = LoadAppAssembly(header);
        // Registration lives in the assembly's generated module initializer.
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        if (FluxAppRegistry.TryGetCancellable(header.AppId, out app, out entry)) return (app, entry);
        throw new FluxPayloadException(
            $"no app \"{header.AppId}\" is registered in {assembly.GetName().Name} ({FluxAppRegistry.Count} apps registered): the payload names an app this build does not have.");
    }

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026",
        Justification = "Only JIT workers load by path; trimmed and NativeAOT workers find their apps already registered.")]
    private static Assembly LoadAppAssembly(Payload.ArgumentsHeader header)
    {
        try
        {
            // Name set, not parsed: AssemblyName's parser costs a worker start-up time for nothing here.
            return Assembly.Load(new AssemblyName { Name = header.AssemblyName });
        }
        catch (FileNotFoundException) when (File.Exists(header.AssemblyPath))
        {
            return LoadWithNeighbours(header.AssemblyPath);
        }
    }

    /// <summary>
    /// Loads an assembly that is not in the dependency context (e.g. loaded by path in the caller), and its
    /// neighbours by path. Apart so that <see cref="AssemblyLoadContext"/>'s facade loads only when needed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026",
        Justification = "Only JIT workers load by path; trimmed and NativeAOT workers find their apps already registered.")]
    private static Assembly LoadWithNeighbours(string path)
    {
        string dir = Path.GetDirectoryName(path)!;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            string candidate = Path.Combine(dir, name.Name + ".dll");
            return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
        };
        return AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
    }
}
