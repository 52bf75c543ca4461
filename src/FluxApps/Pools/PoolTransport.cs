using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace FluxApps.Pools;

/// <summary>
/// One channel between a pool's client and one worker, either side, whatever carries it (a Unix socket
/// connection, <see cref="PoolConnection"/>, or Flux RPCs to the worker's service): frames go out with
/// <see cref="Send"/>, whole frames come in through <see cref="FrameReceived"/>, and <see cref="Closed"/>
/// fires once when the peer goes or the channel fails.
/// </summary>
internal interface IPoolChannel : IAsyncDisposable
{
    /// <summary>Called for each frame received; the body is valid only during the call.</summary>
    PoolConnection.FrameHandler? FrameReceived { get; set; }

    /// <summary>Called once when the channel ends, with the reason (null for an orderly end).</summary>
    Action<Exception?>? Closed { get; set; }

    /// <summary>Starts receiving. Set the handlers first.</summary>
    void Start();

    /// <summary>Sends a frame with a body made of up to three parts; false when the channel is closed.</summary>
    bool Send(PoolFrames.Kind kind, long id, ReadOnlySpan<byte> body = default, ReadOnlySpan<byte> more = default, ReadOnlySpan<byte> last = default);

    /// <summary>Sends what is queued and ends this side's sending.</summary>
    Task FinishSendingAsync();
}

/// <summary>
/// The client's end of a runtime's pool transport: where workers reach it (their environment), and the
/// authenticated channels of the workers that did (<see cref="Accepted"/>). The local backend uses a Unix
/// socket (<see cref="PoolListener"/>); the Flux backend uses Flux's own messaging (services and RPCs over
/// the instance's overlay network), which spans the nodes of a multi-node instance.
/// </summary>
internal interface IPoolTransport : IAsyncDisposable
{
    /// <summary>An authenticated worker arrived: its index, pid and channel. Returns false to refuse it.</summary>
    Func<long, int, IPoolChannel, bool>? Accepted { get; set; }

    /// <summary>What a worker of that index needs in its environment to reach the client (secrets included: never on a command line).</summary>
    IReadOnlyDictionary<string, string?> WorkerEnvironment(long worker);
}
