using System;
using System.Diagnostics;

namespace FluxApps.Backends;

/// <summary>
/// Makes job ids the way Flux does (RFC 19 FLUIDs: 40 bits of milliseconds since the generator's
/// epoch, 14 bits of generator id, 10 bits of sequence), so local jobs print like Flux jobs.
/// </summary>
internal sealed class JobIdGenerator
{
    private readonly long _epochTicks = Stopwatch.GetTimestamp();
    private readonly ulong _generatorId;
    private readonly object _gate = new();
    private ulong _lastMs;
    private ulong _sequence;

    public JobIdGenerator(int generatorId) => _generatorId = (ulong)generatorId & 0x3FFF;

    public FluxJobId Next()
    {
        ulong now = (ulong)(Stopwatch.GetElapsedTime(_epochTicks).Ticks / TimeSpan.TicksPerMillisecond);
        lock (_gate)
        {
            if (now > _lastMs)
            {
                _lastMs = now;
                _sequence = 0;
            }
            else if (++_sequence > 0x3FF)
            {
                _lastMs++;
                _sequence = 0;
            }
            return new FluxJobId((_lastMs & 0xFF_FFFF_FFFF) << 24 | _generatorId << 10 | _sequence);
        }
    }
}
