using System;
using System.Collections.Generic;

namespace FluxApps.Backends;

/// <summary>
/// The local backend's scheduling, and nothing else (no processes, no threads): a machine of
/// <see cref="Cores"/> cores and <see cref="Gpus"/> GPUs, and a queue of requests ordered by urgency
/// (higher first), then submission. <see cref="StartWhatFits"/> hands out cores and GPUs first-fit in
/// that order; a request whose urgency is <see cref="HoldUrgency"/> is held, never started, until
/// <see cref="SetUrgency"/> raises it, as Flux holds a job of urgency 0. Not thread-safe: its owner
/// calls it under one lock.
/// </summary>
/// <typeparam name="TJob">What the owner schedules; compared by reference.</typeparam>
internal sealed class LocalScheduler<TJob> where TJob : class
{
    /// <summary>The urgency that holds a job in the queue (Flux's <c>FLUX_JOB_URGENCY_HOLD</c>).</summary>
    public const int HoldUrgency = 0;

    private readonly bool[] _coreBusy;
    private readonly bool[] _gpuBusy;
    private readonly SortedSet<Entry> _queue = new(Entry.QueueOrder);
    private readonly Dictionary<TJob, Entry> _queued = new(ReferenceEqualityComparer.Instance);
    private long _sequence;

    public LocalScheduler(int cores, int gpus)
    {
        if (cores < 1) throw new ArgumentOutOfRangeException(nameof(cores), cores, $"cores = {cores}: a machine needs at least 1 core.");
        if (gpus < 0) throw new ArgumentOutOfRangeException(nameof(gpus), gpus, $"gpus = {gpus}: use 0 or more.");
        _coreBusy = new bool[cores];
        _gpuBusy = new bool[gpus];
        FreeCores = cores;
        FreeGpus = gpus;
    }

    public int Cores => _coreBusy.Length;

    public int Gpus => _gpuBusy.Length;

    public int FreeCores { get; private set; }

    public int FreeGpus { get; private set; }

    /// <summary>Requests waiting (held ones included).</summary>
    public int QueuedCount => _queue.Count;

    /// <summary>Cores and GPUs handed to a job by <see cref="StartWhatFits"/>, held until <see cref="Release"/>.</summary>
    public sealed record Allocation(TJob Job, int[] CoreSlots, int[] GpuSlots);

    /// <summary>Queues <paramref name="job"/> for <paramref name="cores"/> cores and <paramref name="gpus"/> GPUs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count could never fit this machine, or the urgency is outside 0-31.</exception>
    /// <exception cref="InvalidOperationException">The job is already queued.</exception>
    public void Enqueue(TJob job, int cores, int gpus, int urgency)
    {
        if (cores < 1 || cores > Cores)
            throw new ArgumentOutOfRangeException(nameof(cores), cores, $"cores = {cores}: this machine schedules 1 to {Cores}.");
        if (gpus < 0 || gpus > Gpus)
            throw new ArgumentOutOfRangeException(nameof(gpus), gpus, $"gpus = {gpus}: this machine schedules 0 to {Gpus}.");
        CheckUrgency(urgency);
        if (_queued.ContainsKey(job)) throw new InvalidOperationException("the job is already queued.");
        var entry = new Entry(job, cores, gpus, urgency, ++_sequence);
        _queued.Add(job, entry);
        _queue.Add(entry);
    }

    /// <summary>True while <paramref name="job"/> waits in the queue.</summary>
    public bool IsQueued(TJob job) => _queued.ContainsKey(job);

    /// <summary>Takes a waiting job out of the queue; false when it is not queued (started, or never queued).</summary>
    public bool Remove(TJob job)
    {
        if (!_queued.Remove(job, out var entry)) return false;
        _queue.Remove(entry);
        return true;
    }

    /// <summary>
    /// Changes a waiting job's urgency: <see cref="HoldUrgency"/> holds it, more releases or reorders it
    /// (among equal urgencies, submission order still decides). False when the job is not queued.
    /// </summary>
    public bool SetUrgency(TJob job, int urgency)
    {
        CheckUrgency(urgency);
        if (!_queued.TryGetValue(job, out var entry)) return false;
        _queue.Remove(entry); // the set's order depends on the urgency: out, change, back in
        entry.Urgency = urgency;
        _queue.Add(entry);
        return true;
    }

    /// <summary>
    /// Starts every waiting job that fits now, in queue order (first fit: a job that does not fit yet
    /// does not stop a smaller one behind it), and holds their cores and GPUs. Held jobs never start.
    /// </summary>
    public List<Allocation> StartWhatFits()
    {
        var started = new List<Allocation>();
        foreach (var entry in _queue)
        {
            if (FreeCores == 0 || entry.Urgency == HoldUrgency) break; // held jobs sort last
            if (entry.Cores > FreeCores || entry.Gpus > FreeGpus) continue;
            started.Add(new Allocation(entry.Job, Slots.TakeFirstFree(_coreBusy, entry.Cores), Slots.TakeFirstFree(_gpuBusy, entry.Gpus)));
            FreeCores -= entry.Cores;
            FreeGpus -= entry.Gpus;
        }
        foreach (var allocation in started) Remove(allocation.Job);
        return started;
    }

    /// <summary>Returns an allocation's cores and GPUs.</summary>
    /// <exception cref="InvalidOperationException">A slot in it is not held (released twice).</exception>
    public void Release(Allocation allocation)
    {
        foreach (int c in allocation.CoreSlots)
            if (!_coreBusy[c]) throw new InvalidOperationException($"core slot {c} is released twice.");
        foreach (int g in allocation.GpuSlots)
            if (!_gpuBusy[g]) throw new InvalidOperationException($"GPU slot {g} is released twice.");
        foreach (int c in allocation.CoreSlots) _coreBusy[c] = false;
        foreach (int g in allocation.GpuSlots) _gpuBusy[g] = false;
        FreeCores += allocation.CoreSlots.Length;
        FreeGpus += allocation.GpuSlots.Length;
    }

    private static void CheckUrgency(int urgency)
    {
        if (urgency < HoldUrgency || urgency > 31)
            throw new ArgumentOutOfRangeException(nameof(urgency), urgency, $"Urgency = {urgency} is out of range: use 0 (hold) to 31.");
    }

    private sealed class Entry(TJob job, int cores, int gpus, int urgency, long sequence)
    {
        public static readonly IComparer<Entry> QueueOrder = Comparer<Entry>.Create((a, b) =>
        {
            int byUrgency = b.Urgency.CompareTo(a.Urgency);
            return byUrgency != 0 ? byUrgency : a.Sequence.CompareTo(b.Sequence);
        });

        public TJob Job { get; } = job;
        public int Cores { get; } = cores;
        public int Gpus { get; } = gpus;
        public int Urgency { get; set; } = urgency;
        public long Sequence { get; } = sequence;
    }
}
