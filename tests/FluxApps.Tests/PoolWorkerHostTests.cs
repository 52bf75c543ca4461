using FluxApps.Pools;
using FluxApps.Worker;

namespace FluxApps.Tests;

/// <summary>A pool worker's frame handling where a cancel meets a call that is returning.</summary>
public sealed class PoolWorkerHostTests
{
    [Fact]
    public void ACancelThatFindsTheCallsTokenSourceAlreadyDisposedIsIgnored()
    {
        // The state the race leaves: the cancel looked the call up just before the call's thread disposed its source.
        const long id = -4242; // no real call has a negative id
        var disposed = new CancellationTokenSource();
        disposed.Dispose();
        PoolWorkerHost.Running[id] = disposed;
        try
        {
            // Before the fix this threw ObjectDisposedException into the worker's read loop, which then lost every call.
            PoolWorkerHost.OnFrame(PoolFrames.Kind.Cancel, id, default);
        }
        finally
        {
            PoolWorkerHost.Running.TryRemove(id, out _);
        }
    }

    [Fact]
    public void ACancelReachesARunningCallsToken()
    {
        const long id = -4243;
        using var running = new CancellationTokenSource();
        PoolWorkerHost.Running[id] = running;
        try
        {
            PoolWorkerHost.OnFrame(PoolFrames.Kind.Cancel, id, default);
            Assert.True(running.IsCancellationRequested);
        }
        finally
        {
            PoolWorkerHost.Running.TryRemove(id, out _);
        }
    }
}
