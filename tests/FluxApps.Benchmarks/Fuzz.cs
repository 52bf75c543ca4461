using System.Diagnostics;
using FluxApps.TestApps.Payloads;

namespace FluxApps.Benchmarks;

/// <summary>
/// The payload fuzzer of the test suite, for longer: mutated payloads of several app signatures
/// against the real readers for a given time. Prints the payloads tried, refusals by kind and every
/// crash with its payload in hex; exits 1 on a crash, 2 when one payload stalls the reader.
/// </summary>
internal static class Fuzz
{
    private static readonly TimeSpan s_stallLimit = TimeSpan.FromSeconds(10);

    public static int Run(int seconds, int seed)
    {
        var fuzzer = new PayloadFuzzer(seed);
        Console.WriteLine($"fuzz: {seconds} s, seed {seed}, {fuzzer.TargetNames.Count} payloads to mutate: {string.Join(", ", fuzzer.TargetNames)}");
        var broken = fuzzer.CheckSeeds();
        if (broken.Count > 0)
        {
            Console.WriteLine("CRASH: valid payloads do not decode: " + string.Join(", ", broken));
            return 1;
        }
        using var watchdog = StartWatchdog(fuzzer);

        var clock = Stopwatch.StartNew();
        var all = new List<FuzzReport>();
        // Rounds of at most 10 s, each with a progress line, all from the one seeded fuzzer.
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var round = fuzzer.Run(Min(TimeSpan.FromSeconds(seconds) - clock.Elapsed, TimeSpan.FromSeconds(10)));
            all.Add(round);
            Console.WriteLine($"  {clock.Elapsed.TotalSeconds,5:F0} s: {all.Sum(r => r.Tried)} payloads, {all.Sum(r => r.CrashCount)} crashes");
            foreach (var crash in round.Crashes) Console.WriteLine(crash);
        }

        long tried = all.Sum(r => r.Tried), decoded = all.Sum(r => r.Decoded), crashes = all.Sum(r => r.CrashCount);
        var kinds = all.SelectMany(r => r.RefusedByKind).GroupBy(p => p.Key).Select(g => (Kind: g.Key, Count: g.Sum(p => p.Value)))
            .OrderByDescending(k => k.Count).ToList();
        Console.WriteLine($"refused by kind ({kinds.Count} kinds):");
        foreach (var (kind, count) in kinds) Console.WriteLine($"  {count,9}  {kind}");
        Console.WriteLine($"RESULT fuzz: {tried} payloads in {clock.Elapsed.TotalSeconds:F0} s ({tried / clock.Elapsed.TotalSeconds:F0}/s), " +
                          $"{decoded} decoded, {tried - decoded - crashes} refused with FluxPayloadException, {crashes} crashes (seed {seed})");
        return crashes == 0 ? 0 : 1;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Prints the payload and exits when one decode has run for longer than the stall limit.</summary>
    private static Timer StartWatchdog(PayloadFuzzer fuzzer)
    {
        byte[]? seen = null;
        var since = Stopwatch.StartNew();
        return new Timer(_ =>
        {
            var current = fuzzer.Current;
            if (current is null || !ReferenceEquals(current, seen))
            {
                seen = current;
                since.Restart();
                return;
            }
            if (since.Elapsed < s_stallLimit) return;
            Console.WriteLine($"STALL: one payload has been decoding for {since.Elapsed.TotalSeconds:F0} s ({current.Length} bytes): {Convert.ToHexString(current)}");
            Environment.Exit(2);
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }
}
