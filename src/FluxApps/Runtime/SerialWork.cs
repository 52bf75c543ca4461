using System;
using System.Collections.Concurrent;
using System.Threading;

namespace FluxApps.Runtime;

/// <summary>
/// Runs posted actions one at a time, in the order posted, on the thread pool: work that must keep its order
/// (a pool worker's results, then its channel's end) but must not run on the thread that posts it (a reactor,
/// which every job's events wait on, must never wait on a file system).
/// </summary>
internal sealed class SerialWork
{
    private readonly ConcurrentQueue<Action> _items = new();
    private int _draining;

    /// <summary>Queues <paramref name="item"/>; it runs after everything posted before it.</summary>
    public void Post(Action item)
    {
        _items.Enqueue(item);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.Drain(), this, preferLocal: false);
    }

    private void Drain()
    {
        while (true)
        {
            while (_items.TryDequeue(out var item))
            {
                try
                {
                    item();
                }
                catch (Exception ex)
                {
                    // One failing item must not stop the ones after it.
                    Console.Error.WriteLine("FluxApps: unexpected error in queued work: " + ex);
                }
            }
            Volatile.Write(ref _draining, 0);
            // An item posted between the last dequeue and the reset finds _draining set and relies on this loop.
            if (_items.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0) return;
        }
    }
}
