using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;

namespace FluxApps.Telemetry;

/// <summary>One subscription to a runtime's call events (<see cref="FluxAppsRuntime.WatchEventsAsync"/>), enumerable once.</summary>
internal sealed class CallEventStream(CallObserver observer, Channel<FluxCallEvent> channel, CancellationToken cancellationToken)
    : IAsyncEnumerable<FluxCallEvent>
{
    private int _enumerated;

    public IAsyncEnumerator<FluxCallEvent> GetAsyncEnumerator(CancellationToken enumeratorToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
            throw new InvalidOperationException("This event stream is already being read; call WatchEventsAsync again for another subscription.");
        return ReadAsync(enumeratorToken);
    }

    private async IAsyncEnumerator<FluxCallEvent> ReadAsync(CancellationToken enumeratorToken)
    {
        using var linked = enumeratorToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, enumeratorToken) : null;
        var token = linked?.Token ?? cancellationToken;
        try
        {
            while (true)
            {
                try
                {
                    if (!await channel.Reader.WaitToReadAsync(token).ConfigureAwait(false)) yield break;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    yield break;
                }
                while (channel.Reader.TryRead(out var callEvent)) yield return callEvent;
            }
        }
        finally
        {
            observer.Unsubscribe(channel);
        }
    }
}
