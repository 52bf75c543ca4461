using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using FluxApps.Runtime;
using FluxApps.Serialization;

namespace FluxApps.TestApps.Payloads;

/// <summary>What one mutated payload did to the code that reads it.</summary>
public enum FuzzOutcome
{
    /// <summary>It decoded to a value (for an arguments payload: the app ran, or threw on what it got).</summary>
    Decoded,
    /// <summary>It was refused with a <see cref="FluxPayloadException"/>: the only acceptable failure.</summary>
    Refused,
    /// <summary>Anything else: another exception type, or an allocation out of proportion to the payload.</summary>
    Crash,
}

/// <summary>A payload that made the reader fail other than with a <see cref="FluxPayloadException"/>.</summary>
public sealed record FuzzCrash(string Target, string Mutation, byte[] Payload, string Problem)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"CRASH {Target} after {Mutation}: {Problem}{Environment.NewLine}  payload ({Payload.Length} bytes): {Convert.ToHexString(Payload)}";
}

/// <summary>Totals of a fuzz run.</summary>
public sealed class FuzzReport
{
    /// <summary>Payloads tried.</summary>
    public long Tried { get; internal set; }

    /// <summary>Payloads that decoded to a value.</summary>
    public long Decoded { get; internal set; }

    /// <summary>Refusals by kind: the exception message with its numbers and offsets blanked out.</summary>
    public SortedDictionary<string, long> RefusedByKind { get; } = new(StringComparer.Ordinal);

    /// <summary>Payloads that crashed the reader (first 100 kept).</summary>
    public List<FuzzCrash> Crashes { get; } = [];

    /// <summary>Crashes in all, kept or not.</summary>
    public long CrashCount { get; internal set; }

    /// <summary>Time the run took.</summary>
    public TimeSpan Elapsed { get; internal set; }
}

/// <summary>
/// Mutates valid payloads of several app signatures (arguments with their header, results, error
/// reports) and feeds them to the same code a worker and a caller run: the header checks, the
/// generated entry points and readers. Each must decode or throw <see cref="FluxPayloadException"/>.
/// Deterministic for a seed. A stack overflow or a hang cannot be caught: the run then dies or stalls
/// on the payload in <see cref="Current"/>.
/// </summary>
public sealed class PayloadFuzzer
{
    /// <summary>
    /// A payload may make its reader allocate this much plus <see cref="AllocationPerPayloadByte"/> per byte
    /// (strings widen to UTF-16, objects outgrow their bytes, zero-size elements take none); beyond is a crash.
    /// </summary>
    public const long AllocationAllowance = 64L << 20;

    /// <summary>Bytes a payload may make its reader allocate per payload byte, beyond <see cref="AllocationAllowance"/>.</summary>
    public const long AllocationPerPayloadByte = 512;

    private readonly Random _random;
    private readonly List<Target> _targets;
    private readonly HashSet<string> _appIds;

    /// <summary>Creates a fuzzer whose mutations follow <paramref name="seed"/>.</summary>
    public PayloadFuzzer(int seed)
    {
        _random = new Random(seed);
        _targets = BuildTargets();
        _appIds = _targets.Select(t => t.AppId).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Names of the payloads mutated: app arguments, results and an error report.</summary>
    public IReadOnlyList<string> TargetNames => _targets.Select(t => t.Name).ToList();

    /// <summary>The payload being decoded right now (for a watchdog to print when a decode stalls).</summary>
    public byte[]? Current { get; private set; }

    /// <summary>Decodes every target's valid payload; returns the names of those that did not decode (none if all is well).</summary>
    public IReadOnlyList<string> CheckSeeds() =>
        _targets.Where(t => Decode(t, t.Seed).Outcome != FuzzOutcome.Decoded).Select(t => t.Name).ToList();

    /// <summary>Tries <paramref name="iterations"/> mutated payloads.</summary>
    public FuzzReport Run(int iterations) => Run(report => report.Tried < iterations);

    /// <summary>Tries mutated payloads for <paramref name="duration"/>.</summary>
    public FuzzReport Run(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        return Run(_ => clock.Elapsed < duration);
    }

    private FuzzReport Run(Func<FuzzReport, bool> more)
    {
        var report = new FuzzReport();
        var clock = Stopwatch.StartNew();
        while (more(report))
        {
            var target = _targets[_random.Next(_targets.Count)];
            var (payload, mutation) = Mutate(target.Seed);
            var (outcome, detail) = Decode(target, payload);
            report.Tried++;
            switch (outcome)
            {
                case FuzzOutcome.Decoded:
                    report.Decoded++;
                    break;
                case FuzzOutcome.Refused:
                    report.RefusedByKind[detail] = report.RefusedByKind.GetValueOrDefault(detail) + 1;
                    break;
                default:
                    report.CrashCount++;
                    if (report.Crashes.Count < 100) report.Crashes.Add(new FuzzCrash(target.Name, mutation, payload, detail));
                    break;
            }
        }
        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <summary>Decodes one payload as <paramref name="targetName"/>'s reader would (for replaying a crash).</summary>
    public (FuzzOutcome Outcome, string Detail) Decode(string targetName, byte[] payload) =>
        Decode(_targets.Single(t => t.Name == targetName), payload);

    private (FuzzOutcome Outcome, string Detail) Decode(Target target, byte[] payload)
    {
        Current = payload;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        (FuzzOutcome, string) outcome;
        try
        {
            outcome = target.Decode(this, payload);
        }
        catch (FluxPayloadException ex)
        {
            outcome = (FuzzOutcome.Refused, KindOf(ex.Message));
        }
        catch (Exception ex)
        {
            outcome = (FuzzOutcome.Crash, ex.ToString());
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (allocated > AllocationAllowance + AllocationPerPayloadByte * payload.Length)
            outcome = (FuzzOutcome.Crash, $"decoding {payload.Length} bytes allocated {allocated} bytes");
        Current = null;
        return outcome;
    }

    /// <summary>A refusal's message with its numbers blanked out, so that like refusals count together.</summary>
    public static string KindOf(string message)
    {
        string kind = Regex.Replace(message, @" \(at payload offset \d+\)$", "");
        kind = Regex.Replace(kind, @"0x[0-9a-fA-F]+", "0x#");
        kind = Regex.Replace(kind, @"(?<![\w-])-?\d+", "#"); // numbers, not the 8 of UTF-8
        kind = Regex.Replace(kind, "\"[^\"]*\"", "\"…\"");
        return kind.Length > 110 ? kind[..110] + "…" : kind;
    }

    // ---- mutations ----

    private (byte[] Payload, string Mutation) Mutate(byte[] seed)
    {
        var bytes = new List<byte>(seed);
        var steps = new List<string>();
        int count = 1 + (_random.Next(4) == 0 ? _random.Next(3) : 0);
        for (int i = 0; i < count; i++) steps.Add(MutateOnce(bytes));
        return (bytes.ToArray(), string.Join(", ", steps));
    }

    private static readonly uint[] s_interestingCounts =
        [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x3FFF, 0x4000, 0xFFFF, 1 << 20, int.MaxValue, 0x80000000, 0x80000001, uint.MaxValue - 1, uint.MaxValue];

    private string MutateOnce(List<byte> bytes)
    {
        int at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count);
        switch (_random.Next(9))
        {
            case 0 when bytes.Count > 0:
            {
                int bit = _random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return $"flip bit {bit} at {at}";
            }
            case 1 when bytes.Count > 0:
            {
                byte value = (byte)(_random.Next(3) == 0 ? _random.Next(256) : new byte[] { 0, 1, 2, 0x7F, 0x80, 0xFF }[_random.Next(6)]);
                bytes[at] = value;
                return $"set byte {at} to 0x{value:x2}";
            }
            case 2:
            {
                int length = _random.Next(bytes.Count + 1);
                bytes.RemoveRange(length, bytes.Count - length);
                return $"truncate to {length}";
            }
            case 3:
            case 4:
            {
                // A length prefix overwritten: a varint, as the writer writes counts and string lengths.
                uint value = _random.Next(4) == 0 ? (uint)_random.Next(bytes.Count + 2) : s_interestingCounts[_random.Next(s_interestingCounts.Length)];
                var varint = new List<byte>();
                for (uint v = value; ; v >>= 7)
                {
                    if (v < 0x80) { varint.Add((byte)v); break; }
                    varint.Add((byte)(v | 0x80));
                }
                int replace = Math.Min(_random.Next(1, 6), bytes.Count - at);
                bytes.RemoveRange(at, replace);
                bytes.InsertRange(at, varint);
                return $"varint {value} over {replace} bytes at {at}";
            }
            case 5:
            {
                // A fixed-width field overwritten: an int, a tick count, a header field.
                uint value = s_interestingCounts[_random.Next(s_interestingCounts.Length)];
                for (int i = 0; i < 4 && at + i < bytes.Count; i++) bytes[at + i] = (byte)(value >> (8 * i));
                return $"int32 {value} at {at}";
            }
            case 6:
            {
                // Splice: a piece of another valid payload (maybe of another app) replaces a piece of this one.
                var donor = _targets[_random.Next(_targets.Count)].Seed;
                int from = _random.Next(donor.Length);
                int length = _random.Next(1, Math.Min(64, donor.Length - from) + 1);
                int replace = _random.Next(Math.Min(64, bytes.Count - at) + 1);
                bytes.RemoveRange(at, replace);
                bytes.InsertRange(at, donor.Skip(from).Take(length));
                return $"splice {length} bytes of a payload over {replace} bytes at {at}";
            }
            case 7 when bytes.Count > 0:
            {
                // A piece repeated: deep nesting when the piece is one level of a recursive value.
                int length = _random.Next(1, Math.Min(16, bytes.Count - at) + 1);
                int times = _random.Next(2, 400);
                var piece = bytes.GetRange(at, length);
                for (int i = 0; i < times; i++) bytes.InsertRange(at, piece);
                return $"repeat {length} bytes at {at} {times} times";
            }
            default:
            {
                int length = _random.Next(1, 9);
                if (_random.Next(2) == 0 && bytes.Count > 0)
                {
                    length = Math.Min(length, bytes.Count - at);
                    bytes.RemoveRange(at, length);
                    return $"delete {length} bytes at {at}";
                }
                var junk = new byte[length];
                _random.NextBytes(junk);
                bytes.InsertRange(at, junk);
                return $"insert {length} random bytes at {at}";
            }
        }
    }

    // ---- targets: real payloads of several signatures, decoded by the real readers ----

    private sealed record Target(string Name, string? AppId, byte[] Seed, Func<PayloadFuzzer, byte[], (FuzzOutcome, string)> Decode);

    private static List<Target> BuildTargets()
    {
        var targets = new List<Target>
        {
            Arguments(typeof(Library), nameof(Library.Echo), w => Write(w, PayloadSamples.Measurement())),
            Arguments(typeof(Library), nameof(Library.EchoGrid), w => Write(w, PayloadSamples.Grid())),
            Arguments(typeof(Library), nameof(Library.EchoParticle), w => Write(w, PayloadSamples.Particle())),
            Arguments(typeof(Library), nameof(Library.EchoTuple), w => { w.WriteInt32(-3); w.WriteString("tuple ✓"); Write(w, new Point(1, -1)); }),
            Arguments(typeof(Library), nameof(Library.Group), w => { Write(w, new List<int> { 1, 2, 3, 4 }); Write<IEnumerable<string>>(w, ["a", "bb"]); }),
            Arguments(typeof(Library), nameof(Library.NullableText), w => { w.WriteString("x"); Write<int?>(w, 5); Write<Phase?>(w, null); }),
            Arguments(typeof(Library), nameof(Library.Reverse), w => w.WriteBytes([1, 2, 3, 4])),
            Arguments(typeof(PayloadApps), nameof(PayloadApps.EchoZeroSize), w => Write(w, PayloadSamples.ZeroSize())),
            Arguments(typeof(PayloadApps), nameof(PayloadApps.CountNothings), w => { w.WriteInt32(1); Write(w, new Nothing[3]); }),
            Arguments(typeof(PayloadApps), nameof(PayloadApps.EchoTuples), w => Write(w, new List<ValueTuple> { default, default })),
            Arguments(typeof(PayloadApps), nameof(PayloadApps.EchoStrings), w => Write(w, new[] { "", "ascii", "ünïcødé 𝄞", "" })),
            Arguments(typeof(PayloadApps), nameof(PayloadApps.EchoTree), w => Write(w, PayloadSamples.Tree(12))),
            Arguments(typeof(PayloadApps), nameof(PayloadApps.EchoNode), w => Write(w, PayloadSamples.Node(12))),
            Result("Measurement", PayloadSamples.Measurement()),
            Result("Grid", PayloadSamples.Grid()),
            Result("ZeroSizeValues", PayloadSamples.ZeroSize()),
            Result("Tree", PayloadSamples.Tree(8)),
            Result("Node", PayloadSamples.Node(8)),
            Result("Dictionary<string, List<int>>", new Dictionary<string, List<int>> { ["a"] = [1, 2], ["b"] = [] }),
            Result("(int, string, Point)", (Count: 1, Text: (string?)"é", Where: new Point(2, 3))),
            Result<string>("string", "ünïcødé"),
            new Target("error report", null, Payload.BuildError(new Payload.ErrorReport(Payload.ErrorKind.AppException, 1, "System.Exception", "boom ✗", "at X"))
                .ToArray(), static (_, bytes) =>
            {
                Payload.ParseError(bytes, "error.0.bin");
                return (FuzzOutcome.Decoded, "");
            }),
        };
        return targets;
    }

    private static void Write<T>(FluxWriter w, T value) => GeneratedSerializers.Writer<T>()(w, value);

    /// <summary>The arguments payload of a call, decoded as a worker does: header, app lookup, build check, generated entry point.</summary>
    private static Target Arguments(Type type, string method, Action<FluxWriter> writeArguments)
    {
        var field = type.GetFields(BindingFlags.NonPublic | BindingFlags.Static)
            .Single(f => f.FieldType == typeof(FluxAppDescriptor) && f.Name.StartsWith("__fluxApp_" + method + "_", StringComparison.Ordinal));
        var app = (FluxAppDescriptor)field.GetValue(null)!;
        var arguments = new FluxWriter();
        writeArguments(arguments);
        byte[] seed = Payload.BuildArguments(app, arguments.WrittenSpan).ToArray();
        return new Target($"{app.DisplayName} arguments", app.Id, seed, static (fuzzer, bytes) => fuzzer.RunCall(bytes));
    }

    private (FuzzOutcome, string) RunCall(byte[] bytes)
    {
        var reader = new FluxReader(bytes);
        var header = Payload.ReadArgumentsHeader(reader, "args.bin");
        // Only the apps whose payloads are mutated here run: a splice may name another of them, never one that exits or sleeps.
        if (!_appIds.Contains(header.AppId) || !FluxAppRegistry.TryGet(header.AppId, out var app, out var entry))
            return (FuzzOutcome.Refused, "(app not among the fuzzed ones)");
        if (app.BuildId != header.BuildId) return (FuzzOutcome.Refused, "(another build)");
        var result = Payload.BeginResult();
        try
        {
            var pending = entry(reader, result);
            if (!pending.IsCompletedSuccessfully) pending.AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (reader.ArgumentsCompleted && !result.ResultStarted && ex is not FluxPayloadException)
        {
            return (FuzzOutcome.Decoded, "the app threw " + ex.GetType().Name); // the app's own doing with what it was given
        }
        return (FuzzOutcome.Decoded, "");
    }

    /// <summary>A result payload, decoded as a caller does: header, generated reader, nothing left over.</summary>
    private static Target Result<T>(string name, T value)
    {
        var w = Payload.BeginResult();
        Write(w, value);
        var read = GeneratedSerializers.Reader<T>();
        return new Target($"{name} result", null, w.ToArray(), (_, bytes) =>
        {
            var reader = Payload.OpenResult(bytes, "result.bin");
            read(reader);
            reader.CompleteResult();
            return (FuzzOutcome.Decoded, "");
        });
    }
}
