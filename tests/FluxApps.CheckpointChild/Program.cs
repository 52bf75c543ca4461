// Runs `count` cached calls, two at a time, on the local backend with the given checkpoint
// directory, printing "done <x> cached=<bool>" as each completes. The kill -9 test starts it,
// kills it mid-run, and runs it again to see that only the missing calls are computed.
using FluxApps;
using FluxApps.TestApps;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: FluxApps.CheckpointChild <checkpoint-dir> <counter-file> <count> <milliseconds-per-call>");
    return 2;
}
string checkpoints = args[0], counter = args[1];
int count = int.Parse(args[2]), milliseconds = int.Parse(args[3]);
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
