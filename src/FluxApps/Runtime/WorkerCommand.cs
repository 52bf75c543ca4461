using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;

namespace FluxApps.Runtime;

/// <summary>
/// The command line that starts a worker: the caller's own runtime and dependency context
/// running FluxApps.dll's worker entry point (<c>dotnet exec --runtimeconfig R --depsfile D FluxApps.dll</c>),
/// so apps in the program, in class libraries, or in a test host all resolve as they do in the caller.
/// A NativeAOT (or single-file) program has no such context and re-runs itself instead,
/// as <c>PROGRAM --fluxapps-worker JOBDIR</c>: its generated module initializers run before
/// <c>Main</c>, see the marker and become the worker (<see cref="Worker.FluxWorker.RunIfWorkerProcess"/>).
/// </summary>
internal sealed class WorkerCommand
{
    /// <summary>Environment variable with the job directory, set for every task (a worker's fallback when its command line names none).</summary>
    public const string JobDirectoryVariable = "FLUXAPPS_JOB_DIR";

    /// <summary>
    /// First argument of a self-executing worker (NativeAOT or single-file program re-run as a worker).
    /// An argument, not only the environment: children of an app inherit its environment, and a
    /// program the app starts must not take itself for the app's worker.
    /// </summary>
    public const string SelfWorkerArgument = "--fluxapps-worker";

    private WorkerCommand(string program, IReadOnlyList<string> arguments)
    {
        Program = program;
        Arguments = arguments;
    }

    /// <summary>The executable.</summary>
    public string Program { get; }

    /// <summary>Arguments before the job directory.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The full command for one job directory.</summary>
    public List<string> For(string jobDirectory)
    {
        var list = new List<string>(Arguments.Count + 2) { Program };
        list.AddRange(Arguments);
        list.Add(jobDirectory);
        return list;
    }

    /// <summary>Argument that makes a worker a long-lived pool worker (<see cref="Worker.PoolWorkerHost"/>) instead of running one call.</summary>
    public const string PoolArgument = "--fluxapps-pool";

    /// <summary>The command of a pool worker (its connection details come in its environment).</summary>
    public List<string> ForPool() => For(PoolArgument);

    public static WorkerCommand Resolve(string scratchDirectory) => Resolve(() => WriteFallbackRuntimeConfig(scratchDirectory));

    /// <summary>
    /// The command <see cref="Resolve(string)"/> would give, without writing anything: where it would write a
    /// fallback runtimeconfig, the path names it in <paramref name="runDirectoryPlaceholder"/> (a dry run's).
    /// </summary>
    public static WorkerCommand Describe(string runDirectoryPlaceholder) =>
        Resolve(() => runDirectoryPlaceholder + "/" + FallbackRuntimeConfigName);

    private const string FallbackRuntimeConfigName = "worker.runtimeconfig.json";

    private static WorkerCommand Resolve(Func<string> fallbackRuntimeConfig)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported || AssemblyPaths.Of(typeof(WorkerCommand).Assembly).Length == 0)
        {
            string self = Environment.ProcessPath ?? throw new InvalidOperationException("FluxApps cannot find this program's path to start workers.");
            return new WorkerCommand(self, new[] { SelfWorkerArgument });
        }
        string host = FindDotnetHost();
        string fluxAppsDll = AssemblyPaths.Of(typeof(WorkerCommand).Assembly);
        var args = new List<string> { "exec" };
        string? deps = FirstDepsFile();
        string? runtimeConfig = deps is null ? null : Path.ChangeExtension(Path.ChangeExtension(deps, null), null) + ".runtimeconfig.json";
        if (runtimeConfig is null || !File.Exists(runtimeConfig))
        {
            string entry = AssemblyPaths.Of(System.Reflection.Assembly.GetEntryAssembly());
            string? candidate = string.IsNullOrEmpty(entry) ? null : Path.ChangeExtension(entry, ".runtimeconfig.json");
            runtimeConfig = candidate is not null && File.Exists(candidate) ? candidate : fallbackRuntimeConfig();
        }
        args.Add("--runtimeconfig");
        args.Add(runtimeConfig);
        if (deps is not null && File.Exists(deps))
        {
            args.Add("--depsfile");
            args.Add(deps);
        }
        args.Add(fluxAppsDll);
        return new WorkerCommand(host, args);
    }

    private static string? FirstDepsFile()
    {
        if (AppContext.GetData("APP_CONTEXT_DEPS_FILES") is not string files) return null;
        foreach (string f in files.Split(';', StringSplitOptions.RemoveEmptyEntries))
            if (f.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase)) return f;
        return null;
    }

    private static string WriteFallbackRuntimeConfig(string scratchDirectory)
    {
        var v = Environment.Version;
        string path = Path.Combine(scratchDirectory, FallbackRuntimeConfigName);
        File.WriteAllText(path,
            "{\"runtimeOptions\":{\"tfm\":\"net" + v.Major + "." + v.Minor + "\",\"rollForward\":\"LatestMinor\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + v.Major + "." + v.Minor + ".0\"}}}");
        return path;
    }

    /// <summary>The <c>dotnet</c> muxer that runs this process's runtime.</summary>
    internal static string FindDotnetHost()
    {
        string? processPath = Environment.ProcessPath;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet") return processPath;
        // <root>/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll -> <root>/dotnet
        string coreLib = AssemblyPaths.Of(typeof(object).Assembly);
        if (!string.IsNullOrEmpty(coreLib))
        {
            var dir = new DirectoryInfo(Path.GetDirectoryName(coreLib)!);
            string? root = dir.Parent?.Parent?.Parent?.FullName;
            if (root is not null)
            {
                string candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
                if (File.Exists(candidate)) return candidate;
            }
        }
        string? hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        return "dotnet";
    }
}
