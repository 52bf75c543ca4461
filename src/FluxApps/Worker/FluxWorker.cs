using System;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using FluxApps.Runtime;
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

    /// <summary>
    /// For programs published NativeAOT, which have no separate worker host: when this process was
    /// started as a worker (<c>FLUXAPPS_JOB_DIR</c> is set) for an app of <paramref name="assembly"/>,
    /// runs it and exits. Generated module initializers call this.
    /// </summary>
    public static void RunIfWorkerProcess(Assembly assembly)
    {
        if (RuntimeFeature.IsDynamicCodeSupported) return; // JIT workers start in FluxApps.dll's own entry point
        string? jobDir = Environment.GetEnvironmentVariable(WorkerCommand.JobDirectoryVariable);
        if (string.IsNullOrEmpty(jobDir)) return;
        Environment.Exit(Run(jobDir));
    }

    /// <summary>Runs the call in <paramref name="jobDirectory"/> on this task's rank; returns the exit code.</summary>
    public static int Run(string? jobDirectory)
    {
        int rank = int.TryParse(Environment.GetEnvironmentVariable("FLUX_TASK_RANK"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : 0;
        if (string.IsNullOrEmpty(jobDirectory))
        {
            Console.Error.WriteLine("FluxApps worker: no job directory given (argument or FLUXAPPS_JOB_DIR).");
            return WorkerFailedExitCode;
        }
        FluxReader? arguments = null;
        FluxWriter? result = null;
        try
        {
            string argsPath = Path.Combine(jobDirectory, Payload.ArgumentsFile);
            arguments = new FluxReader(File.ReadAllBytes(argsPath));
            var header = Payload.ReadArgumentsHeader(arguments, argsPath);
            var (app, entry) = FindApp(header);
            if (app.BuildId != header.BuildId)
                throw new InvalidDataException(
                    $"the payload for {header.AppId} comes from another build of {header.AssemblyName} (payload build {header.BuildId}, this worker's build {app.BuildId}): rebuild and resubmit from the same program.");
            result = Payload.BeginResult();
            var pending = entry(arguments, result);
            if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
            if (rank == 0) Payload.WriteFile(Path.Combine(jobDirectory, Payload.ResultFile), result.WrittenSpan);
            return 0;
        }
        catch (Exception ex)
        {
            bool appThrew = arguments is { ArgumentsCompleted: true } && result is { ResultStarted: false };
            var report = appThrew
                ? new Payload.ErrorReport(Payload.ErrorKind.AppException, rank, ex.GetType().FullName ?? ex.GetType().Name, ex.Message, ex.ToString())
                : new Payload.ErrorReport(Payload.ErrorKind.WorkerError, rank, ex.GetType().FullName ?? ex.GetType().Name,
                    result is { ResultStarted: true } ? "the result could not be serialized: " + ex.Message : ex.Message, ex.ToString());
            try
            {
                Payload.WriteError(Path.Combine(jobDirectory, Payload.ErrorFile(rank)), report);
            }
            catch (Exception writeFailure)
            {
                Console.Error.WriteLine($"FluxApps worker: could not write the error report: {writeFailure.Message}");
            }
            Console.Error.WriteLine($"FluxApps worker rank {rank}: {report.Message}");
            return appThrew ? AppFailedExitCode : WorkerFailedExitCode;
        }
    }

    private static (FluxAppDescriptor App, FluxAppEntryPoint Entry) FindApp(Payload.ArgumentsHeader header)
    {
        if (FluxAppRegistry.TryGet(header.AppId, out var app, out var entry)) return (app, entry);
        Assembly assembly = LoadAppAssembly(header);
        // Registration lives in the assembly's generated module initializer.
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        if (FluxAppRegistry.TryGet(header.AppId, out app, out entry)) return (app, entry);
        throw new InvalidDataException(
            $"no app \"{header.AppId}\" is registered in {assembly.GetName().Name} ({FluxAppRegistry.Count} apps registered): the payload names an app this build does not have.");
    }

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026",
        Justification = "Only JIT workers load by path; trimmed and NativeAOT workers find their apps already registered.")]
    private static Assembly LoadAppAssembly(Payload.ArgumentsHeader header)
    {
        try
        {
            return Assembly.Load(new AssemblyName(header.AssemblyName));
        }
        catch (FileNotFoundException) when (File.Exists(header.AssemblyPath))
        {
            // Not in the dependency context (e.g. loaded by path in the caller): load it and its neighbours by path.
            string dir = Path.GetDirectoryName(header.AssemblyPath)!;
            AssemblyLoadContext.Default.Resolving += (context, name) =>
            {
                string candidate = Path.Combine(dir, name.Name + ".dll");
                return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
            };
            return AssemblyLoadContext.Default.LoadFromAssemblyPath(header.AssemblyPath);
        }
    }
}
