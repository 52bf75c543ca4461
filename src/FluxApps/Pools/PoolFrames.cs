using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;

namespace FluxApps.Pools;

/// <summary>
/// The frames between a pool's client and its workers: <c>[int32 length][byte kind][int64 call id][body]</c>,
/// little-endian, length counting the whole frame. Bodies are raw bytes: the same argument, result and error
/// payloads a job of its own keeps in files (<see cref="Runtime.Payload"/>).
/// </summary>
internal static class PoolFrames
{
    /// <summary>Bytes before the body.</summary>
    public const int HeaderSize = 13;

    /// <summary>Largest frame accepted (a peer that sends more does not speak this protocol).</summary>
    public const int MaxFrameSize = 1 << 30;

    /// <summary>
    /// Largest payload that travels inside a frame; a larger argument or result payload goes through a file in the run
    /// directory (which the workers see, as they see a job's files) and the frame carries its path. The margin leaves room
    /// for the rest of the frame: header, GPU slots, trace context (at most 4 KiB) and stderr tail.
    /// </summary>
    public const int InlineLimit = MaxFrameSize - (1 << 20);

    /// <summary>Set in a Done frame's outcome byte: the payload is in a file whose UTF-8 path the frame carries instead.</summary>
    public const byte InFileFlag = 0x80;

    /// <summary>Where a Call frame's arguments are, in the byte after its trace context.</summary>
    public enum Placement : byte
    {
        /// <summary>The rest of the body is the arguments payload.</summary>
        Inline = 0,
        /// <summary>The rest of the body is the UTF-8 path of a file holding it (the worker deletes it once read).</summary>
        InFile = 1,
    }

    /// <summary>Length of the secret a worker proves it holds.</summary>
    public const int SecretSize = 32;

    public enum Kind : byte
    {
        /// <summary>Worker to client, first frame: id = worker index; body = secret, then the worker's pid (int32).</summary>
        Hello = 1,
        /// <summary>
        /// Client to worker: run a call. Body: int32 GPU count, the GPU slots (int32 each), int32 trace context length and the
        /// trace context (UTF-8), a <see cref="Placement"/> byte, then the arguments payload or the path of its file.
        /// </summary>
        Call = 2,
        /// <summary>Client to worker: cancel the call's token (the call was cancelled or passed its time limit).</summary>
        Cancel = 3,
        /// <summary>Client to worker: finish and exit (idle, or the runtime is ending).</summary>
        Stop = 4,
        /// <summary>
        /// Worker to client: the call returned. Body: <see cref="Outcome"/> (with <see cref="InFileFlag"/> when the payload is
        /// in a file), int32 length and the result or error payload (or the file's UTF-8 path), then the call's stderr tail (UTF-8).
        /// </summary>
        Done = 5,
    }

    /// <summary>How a call ended in the worker.</summary>
    public enum Outcome : byte
    {
        Result = 0,
        AppException = 1,
        WorkerError = 2,
    }

    /// <summary>Takes one whole frame off the front of <paramref name="buffer"/>; false until all of it has arrived.</summary>
    /// <exception cref="InvalidDataException">The length is out of range (a peer that does not speak this protocol).</exception>
    public static bool TryTake(ref ReadOnlySequence<byte> buffer, out Kind kind, out long id, out ReadOnlySequence<byte> body)
    {
        kind = 0;
        id = 0;
        body = default;
        if (buffer.Length < HeaderSize) return false;
        Span<byte> head = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(head);
        int length = BinaryPrimitives.ReadInt32LittleEndian(head);
        if (length < HeaderSize || length > MaxFrameSize) throw new InvalidDataException($"pool frame length {length} is out of range ({HeaderSize} to {MaxFrameSize}).");
        if (buffer.Length < length) return false;
        kind = (Kind)head[4];
        id = BinaryPrimitives.ReadInt64LittleEndian(head[5..]);
        body = buffer.Slice(HeaderSize, length - HeaderSize);
        buffer = buffer.Slice(length);
        return true;
    }

    /// <summary>Writes a frame's header into <paramref name="destination"/> (at least <see cref="HeaderSize"/> bytes).</summary>
    public static void WriteHeader(Span<byte> destination, int frameLength, Kind kind, long id)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, frameLength);
        destination[4] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(destination[5..], id);
    }
}
