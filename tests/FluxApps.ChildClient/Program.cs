// A client program the tests start and kill with SIGKILL mid-run (no finally blocks, no disposal):
//
//   checkpoint <checkpoint-dir> <counter-file> <count> <milliseconds-per-call>
//       `count` cached calls, two at a time, on the local backend, printing "done <x> = <value> cached=<bool>" as each
//       completes; run again after the kill, only the missing calls are computed.
//   pool <local|flux-uri> <work-dir>
//       one pool of one worker on the local backend or on the Flux instance at <flux-uri>; prints "worker <job id> <pid>"
//       once a call has run in it, then waits to be killed: the worker must end by itself when its client is gone.
//   sleep <work-dir>
//       one 10-minute call on the local backend; prints "running" once its job has started, then waits for it (the test
//       interrupts this program, as a terminal's Ctrl+C would: its ranks must get the signal too).
using FluxApps;
using FluxApps.TestApps;

switch (args.Length > 0 ? args[0] : "")
{
    case "checkpoint" when args.Length == 5:
        return await CheckpointAsync(args[1], args[2], int.Parse(args[3]), int.Parse(args[4]));
    case "pool" when args.Length == 3:
        return await PoolAsync(args[1], args[2]);
    case "sleep" when args.Length == 2:
        return await SleepAsync(args[1]);
    default:
        Console.Error.WriteLine("usage: FluxApps.ChildClient checkpoint <checkpoint-dir> <counter-file> <count> <milliseconds-per-call>");
        Console.Error.WriteLine("       FluxApps.ChildClient pool <local|flux-uri> <work-dir>");
        Console.Error.WriteLine("       FluxApps.ChildClient sleep <work-dir>");
        return 2;
}

static async Task<int> CheckpointAsync(string checkpoints, string counter, int count, int milliseconds)
{
    await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
    {
        Backend = FluxBackend.Local,
        LocalCores = 2,
        CheckpointDirectory = checkpoints,
    });
    var options = new FluxCallOptions { Runtime = runtime };
    using var gate = new SemaphoreSlim(2);
    var calls = Enumerable.Range(1, count).Select(async x =>
    {
        await gate.WaitAsync();
        try
        {
            var future = CachedApps.SquareAsync(counter, x, milliseconds, options);
            long value = await future;
            Console.WriteLine($"done {x} = {value} cached={future.FromCache}");
        }
        finally
        {
            gate.Release();
        }
    });
    await Task.WhenAll(calls);
    return 0;
}

static async Task<int> PoolAsync(string backend, string workDirectory)
{
    var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions
    {
        Backend = backend == "local" ? FluxBackend.Local : FluxBackend.Flux,
        FluxUri = backend == "local" ? null : backend,
        WorkingDirectory = workDirectory,
        LocalCores = 1,
        Pools = [new FluxPoolOptions { Name = "p", MaxWorkers = 1, CpusPerWorker = 1 }],
    });
    var call = TokenApps.StartupRunsAsync(1, new FluxCallOptions { Runtime = runtime, Pool = "p" });
    int[] seen = await call; // the worker's pid first
    Console.WriteLine($"worker {call.JobId} {seen[0]}");
    await Task.Delay(Timeout.Infinite);
    return 0;
}

static async Task<int> SleepAsync(string workDirectory)
{
    await using var runtime = await FluxAppsRuntime.StartAsync(new FluxAppsOptions { Backend = FluxBackend.Local, WorkingDirectory = workDirectory });
    var call = Library.SleepAsync(600_000, new FluxCallOptions { Runtime = runtime });
    while (!call.Events.Any(e => e.Name == "start"))
    {
        if (call.IsCompleted) await call;
        await Task.Delay(10);
    }
    Console.WriteLine("running");
    await call;
    return 0;
}
