using System.Globalization;

namespace FluxApps.Benchmarks;

/// <summary>
/// <c>soak [--backend local|flux] [--calls N] [--faults F] [--seed S] [--concurrency K] [--exit-codes 3,130] [--kinds Throw,Exit,...] [--telemetry]</c>:
/// runs <see cref="Soak"/> and prints its figures; the exit code is 1 when a future was lost, an outcome was
/// wrong, or a process or file outlived the runtime.
/// </summary>
internal static class SoakCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new SoakOptions { Log = Console.Out, CountChildProcesses = true };
        bool callsGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--backend":
                    string backend = Next();
                    options = options with
                    {
                        Backend = backend switch
                        {
                            "local" => FluxBackend.Local,
                            "flux" => FluxBackend.Flux,
                            _ => throw new ArgumentException($"--backend {backend}: use local or flux"),
                        },
                    };
                    break;
                case "--calls": options = options with { Calls = int.Parse(Next(), CultureInfo.InvariantCulture) }; callsGiven = true; break;
                case "--faults": options = options with { Faults = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--telemetry": options = options with { Telemetry = true }; break;
                case "--seed": options = options with { Seed = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--concurrency": options = options with { Concurrency = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--exit-codes":
                    options = options with { ExitCodes = Next().Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() };
                    break;
                case "--kinds": // e.g. Throw,TimeLimit: inject only these faults (to tell which one causes a figure)
                    options = options with { FaultKinds = Next().Split(',').Select(k => Enum.Parse<SoakFault>(k, ignoreCase: true)).Where(k => k != SoakFault.None).ToArray() };
                    break;
                default: throw new ArgumentException($"soak: unknown option {args[i]}");
            }
        }
        // One job per call on Flux runs about 15-20 calls/s here: a smaller default keeps the run to about a minute.
        if (!callsGiven && options.Backend == FluxBackend.Flux) options = options with { Calls = 1000 };
        if (options.Calls < 1 || options.Faults is < 0 or > 1 || options.ExitCodes.Count == 0 || options.ExitCodes.Any(c => c is <= 0 or > 255))
            throw new ArgumentException("soak: --calls must be at least 1, --faults within 0..1, --exit-codes within 1..255");

        var report = await Soak.RunAsync(options);
        report.Print(Console.Out);
        return report.Passed ? 0 : 1;
    }
}
