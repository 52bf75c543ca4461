namespace FluxApps.Worker;

/// <summary>The worker host: <c>dotnet exec --runtimeconfig R --depsfile D FluxApps.dll JOBDIR</c> runs one task of a job;
/// with <c>--fluxapps-pool</c> instead of the directory it is a long-lived pool worker.</summary>
internal static class Program
{
    private static int Main(string[] args) =>
        args.Length > 0 && args[0] == Runtime.WorkerCommand.PoolArgument ? PoolWorkerHost.Run() :
        FluxWorker.Run(args.Length > 0 ? args[0] : System.Environment.GetEnvironmentVariable(Runtime.WorkerCommand.JobDirectoryVariable));
}
