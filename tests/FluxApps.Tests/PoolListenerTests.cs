using System.Net.Sockets;
using FluxApps.Pools;

namespace FluxApps.Tests;

/// <summary>The pool listener's accept loop when accepts keep failing, as they do while the process is out of file descriptors.</summary>
public sealed class PoolListenerTests
{
    [Fact]
    public async Task AcceptsFailingWithEmfileArePacedNotSpunAndTheLoopStillAcceptsAfterwards()
    {
        int attempts = 0;
        bool descriptorsBack = false;
        using var peer = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accepted = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var loop = PoolListener.AcceptLoopAsync(_ =>
        {
            Interlocked.Increment(ref attempts);
            if (!Volatile.Read(ref descriptorsBack)) throw new SocketException((int)SocketError.TooManyOpenSockets); // EMFILE
            return ValueTask.FromResult(peer);
        }, s => { accepted.TrySetResult(s); stop.Cancel(); }, stop.Token);

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        int failedAttempts = Volatile.Read(ref attempts);
        // Paced: 1 ms doubling to 1 s makes about a dozen attempts in 1.5 s; a loop that retries at once makes millions.
        Assert.InRange(failedAttempts, 2, 40);
        Volatile.Write(ref descriptorsBack, true);
        Assert.Same(peer, await accepted.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task StoppingEndsTheLoopWhileItWaitsAfterAFailure()
    {
        using var stop = new CancellationTokenSource();
        var loop = PoolListener.AcceptLoopAsync(_ => throw new SocketException((int)SocketError.TooManyOpenSockets), _ => { }, stop.Token);
        await Task.Delay(1200); // into the longest pause
        stop.Cancel();
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
