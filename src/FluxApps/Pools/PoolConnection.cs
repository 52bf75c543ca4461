using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Pools;

/// <summary>
/// One stream connection between a pool's client and one worker, either side: frames sent from any thread are
/// appended to an in-memory pipe and one pump writes whatever has accumulated with one socket write (so a burst
/// of calls or results costs a few system calls, not one each); a read loop hands each whole frame to
/// <see cref="FrameReceived"/>. <see cref="Closed"/> fires once, when the peer goes or the connection fails.
/// </summary>
internal sealed class PoolConnection : IPoolChannel
{
    public delegate void FrameHandler(PoolFrames.Kind kind, long id, ReadOnlySequence<byte> body);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Pipe _outgoing = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly object _writeGate = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _pump;
    private Task? _reader;
    private int _closed;

    public PoolConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Called on the read loop for each frame; the body is valid only during the call.</summary>
    public FrameHandler? FrameReceived { get; set; }

    /// <summary>Called once when the connection ends, with the reason (null for an orderly end of stream).</summary>
    public Action<Exception?>? Closed { get; set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Starts reading and writing. Set the handlers first.</summary>
    public void Start()
    {
        _pump = Task.Run(PumpAsync);
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Sends a frame with a body made of up to three parts; false when the connection is closed.</summary>
    public bool Send(PoolFrames.Kind kind, long id, ReadOnlySpan<byte> body = default, ReadOnlySpan<byte> more = default, ReadOnlySpan<byte> last = default)
    {
        int length = PoolFrames.HeaderSize + body.Length + more.Length + last.Length;
        lock (_writeGate)
        {
            if (IsClosed) return false;
            var writer = _outgoing.Writer;
            Span<byte> span = writer.GetSpan(length);
            PoolFrames.WriteHeader(span, length, kind, id);
            body.CopyTo(span[PoolFrames.HeaderSize..]);
            more.CopyTo(span[(PoolFrames.HeaderSize + body.Length)..]);
            last.CopyTo(span[(PoolFrames.HeaderSize + body.Length + more.Length)..]);
            writer.Advance(length);
            // No back-pressure threshold: completes at once and wakes the pump.
            _ = writer.FlushAsync();
        }
        return true;
    }

    private async Task PumpAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                foreach (var segment in read.Buffer) await _stream.WriteAsync(segment, _stop.Token).ConfigureAwait(false);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Close(ex is OperationCanceledException ? null : ex);
        }
    }

    private async Task ReadAsync()
    {
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        Exception? failure = null;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (PoolFrames.TryTake(ref buffer, out var kind, out long id, out var body)) FrameReceived?.Invoke(kind, id, body);
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted) break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        Close(failure);
    }

    /// <summary>Sends what is queued, then ends this side's stream (the peer reads its end) and waits for the pump.</summary>
    public async Task FinishSendingAsync()
    {
        lock (_writeGate)
        {
            if (IsClosed) return;
            _outgoing.Writer.Complete();
        }
        if (_pump is not null) await _pump.ConfigureAwait(false);
    }

    /// <summary>Ends the connection (the peer sees end of stream); <see cref="Closed"/> fires if it has not.</summary>
    public void Close(Exception? reason = null)
    {
        lock (_writeGate)
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0) return;
            try
            {
                _outgoing.Writer.Complete();
            }
            catch (InvalidOperationException)
            {
                // Completed already by FinishSendingAsync.
            }
        }
        _stop.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        Closed?.Invoke(reason);
    }

    public async ValueTask DisposeAsync()
    {
        Close();
        try
        {
            if (_pump is not null) await _pump.ConfigureAwait(false);
            if (_reader is not null) await _reader.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already reported through Closed.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
