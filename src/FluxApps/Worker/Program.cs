namespace FluxApps.Worker;

/// <summary>The worker host: <c>dotnet exec --runtimeconfig R --depsfile D FluxApps.dll JOBDIR</c> runs one task of a job.</summary>
internal static class Program
{
    private static int Main(string[] args) =>
        FluxWorker.Run(args.Length > 0 ? args[0] : System.Environment.GetEnvironmentVariable(Runtime.WorkerCommand.JobDirectoryVariable));
}
