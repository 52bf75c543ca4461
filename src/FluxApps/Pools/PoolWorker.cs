using System;
using System.Collections.Generic;
using FluxApps.Runtime;

namespace FluxApps.Pools;

/// <summary>
/// The client's view of one worker of a pool: its job, its connection once it has dialled in, the calls it runs
/// and the cores and GPU slots they hold. Guarded by its pool's lock.
/// </summary>
internal sealed class PoolWorker(long index, int cpus, int gpus)
{
    public enum Stage
    {
        /// <summary>Its job is submitted; it has not connected yet.</summary>
        Starting,
        /// <summary>Connected: takes calls.</summary>
        Ready,
        /// <summary>Takes no new calls: told to stop (idle, disposal), its connection broke, or replaced after an app ignored its cancellation.</summary>
        Stopping,
    }

    public long Index { get; } = index;
    public Stage State { get; set; } = Stage.Starting;
    public JobRequest? Job { get; set; }
    public IPoolChannel? Connection { get; set; }
    public int Pid { get; set; }

    /// <summary>Its end is under way (told to stop, or its job cancelled) after it stopped taking calls: done once.</summary>
    public bool Retiring { get; set; }

    /// <summary>Cancels its job if it outlives its broken connection.</summary>
    public System.Threading.Timer? LostTimer { get; set; }
    public Dictionary<long, PooledCall> Running { get; } = new();
    public int FreeCpus { get; set; } = cpus;
    public bool[] GpuBusy { get; } = new bool[gpus];

    /// <summary>When its last call ended (or it connected): idle workers end after the pool's idle timeout.</summary>
    public long IdleSince { get; set; } = Environment.TickCount64;

    public int FreeGpus
    {
        get
        {
            int free = 0;
            foreach (bool busy in GpuBusy) if (!busy) free++;
            return free;
        }
    }

    /// <summary>True when every call it still runs has been given up on (cancelled or timed out, its app ignoring the token).</summary>
    public bool OnlyAbandonedCalls
    {
        get
        {
            foreach (var call in Running.Values) if (call.State != PooledCall.Stage.Abandoned) return false;
            return true;
        }
    }

    public int[] TakeGpus(int count) => Backends.Slots.TakeFirstFree(GpuBusy, count);

    public void Release(PooledCall call)
    {
        FreeCpus += call.Cpus;
        foreach (int slot in call.GpuSlots) GpuBusy[slot] = false;
        call.GpuSlots = Array.Empty<int>();
    }
}
