using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace FluxApps.Serialization;

/// <summary>
/// Reads what <see cref="FluxWriter"/> wrote. Generated code calls it. Little-endian through Unsafe/MemoryMarshal (System.Runtime), not
/// BinaryPrimitives or span extensions: a worker then loads no facade assembly (System.Memory) to read its arguments.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FluxReader
{
    /// <summary>Deepest nesting of objects and structs a payload may have.</summary>
    public const int MaxDepth = 256;

    /// <summary>
    /// Zero-size elements (structs without fields, <see cref="ValueTuple"/>) take no payload bytes, so their
    /// count cannot be checked against the bytes left. A payload of N bytes may hold at most
    /// <see cref="MaxZeroSizeElementsBase"/> + <see cref="MaxZeroSizeElementsPerByte"/> × N of them in all
    /// its collections together, which bounds what a hostile count can make a reader allocate and loop over.
    /// </summary>
    public const int MaxZeroSizeElementsBase = 1 << 20;

    /// <summary>Zero-size elements a payload may hold per byte of its length, beyond <see cref="MaxZeroSizeElementsBase"/>.</summary>
    public const int MaxZeroSizeElementsPerByte = 16;

    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _end;
    private int _position;
    private int _depth;
    // Elements of other sizes take at least one byte each and no two start at the same byte, so a
    // payload holds at most as many as it has bytes: this budget stops nested collections from
    // each claiming all the remaining bytes and allocating for them before any is read.
    private long _elementsLeft;
    private long _zeroSizeElementsLeft;

    /// <summary>Reads the whole of <paramref name="buffer"/>.</summary>
    public FluxReader(byte[] buffer) : this(buffer, 0) { }

    /// <summary>Reads <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public FluxReader(byte[] buffer, int offset) : this(buffer, offset, buffer.Length - offset) { }

    /// <summary>Reads <paramref name="count"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public FluxReader(byte[] buffer, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if ((uint)offset > (uint)buffer.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        if ((uint)count > (uint)(buffer.Length - offset)) throw new ArgumentOutOfRangeException(nameof(count));
        _buffer = buffer;
        _start = offset;
        _position = offset;
        _end = offset + count;
        _elementsLeft = count;
        _zeroSizeElementsLeft = MaxZeroSizeElementsBase + (long)MaxZeroSizeElementsPerByte * count;
    }

    /// <summary>Current offset in the buffer.</summary>
    public int Position => _position;

    /// <summary>Bytes left to read.</summary>
    public int Remaining => _end - _position;

    /// <summary>The bytes read from <paramref name="start"/> (an earlier <see cref="Position"/>) up to the current position.</summary>
    internal ReadOnlyMemory<byte> Consumed(int start) => new(_buffer, start, _position - start);

    private ReadOnlySpan<byte> Take(int count)
    {
        // Unsigned: a huge count cannot overflow the sum and slip past the check.
        if ((uint)count > (uint)(_end - _position))
            throw TruncatedAt(_position, count);
        var span = new ReadOnlySpan<byte>(_buffer, _position, count);
        _position += count;
        return span;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private FluxPayloadException TruncatedAt(int offset, long count) =>
        new($"The payload is truncated: {count} more bytes were expected, {_end - offset} remain", offset);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FluxPayloadException Corrupt(string message, int offset, Exception? inner = null) => new("The payload is corrupt: " + message, offset, inner);

    /// <summary>Reads raw bytes.</summary>
    public ReadOnlySpan<byte> ReadRaw(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Take(count);
    }

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a boolean.</summary>
    public bool ReadBoolean()
    {
        byte b = ReadByte();
        if (b > 1) throw Corrupt($"a boolean is {b}, not 0 or 1", _position - 1);
        return b != 0;
    }

    /// <summary>Reads a signed byte.</summary>
    public sbyte ReadSByte() => unchecked((sbyte)ReadByte());

    /// <summary>Reads a 16-bit integer.</summary>
    public short ReadInt16() => unchecked((short)ReadUInt16());

    /// <summary>Reads an unsigned 16-bit integer.</summary>
    public ushort ReadUInt16()
    {
        ushort value = Unsafe.ReadUnaligned<ushort>(ref MemoryMarshal.GetReference(Take(2)));
        return BitConverter.IsLittleEndian ? value : (ushort)(value >> 8 | value << 8);
    }

    /// <summary>Reads a 32-bit integer.</summary>
    public int ReadInt32() => unchecked((int)ReadUInt32());

    /// <summary>Reads an unsigned 32-bit integer.</summary>
    public uint ReadUInt32()
    {
        uint value = Unsafe.ReadUnaligned<uint>(ref MemoryMarshal.GetReference(Take(4)));
        return BitConverter.IsLittleEndian ? value : SwapBytes(value);
    }

    /// <summary>Reads a 64-bit integer.</summary>
    public long ReadInt64() => unchecked((long)ReadUInt64());

    /// <summary>Reads an unsigned 64-bit integer.</summary>
    public ulong ReadUInt64()
    {
        ulong value = Unsafe.ReadUnaligned<ulong>(ref MemoryMarshal.GetReference(Take(8)));
        return BitConverter.IsLittleEndian ? value : SwapBytes((uint)(value >> 32)) | (ulong)SwapBytes((uint)value) << 32;
    }

    private static uint SwapBytes(uint v) => v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;

    /// <summary>Reads a single-precision float.</summary>
    public float ReadSingle() => BitConverter.Int32BitsToSingle(ReadInt32());

    /// <summary>Reads a double-precision float.</summary>
    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <summary>Reads a half-precision float.</summary>
    public Half ReadHalf() => BitConverter.Int16BitsToHalf(ReadInt16());

    /// <summary>Reads a decimal.</summary>
    public decimal ReadDecimal()
    {
        int start = _position;
        Span<int> bits = stackalloc int[4];
        for (int i = 0; i < 4; i++) bits[i] = ReadInt32();
        // decimal's layout: flags hold only a sign (bit 31) and a scale of 0 to 28 (bits 16-23).
        int flags = bits[3];
        if ((flags & 0x7F00FFFF) != 0 || (flags >> 16 & 0xFF) > 28)
            throw Corrupt($"a decimal has flags 0x{flags:x8} (sign and a scale of at most 28 expected)", start);
        return new decimal(bits);
    }

    /// <summary>Reads a UTF-16 code unit.</summary>
    public char ReadChar() => (char)ReadUInt16();

    /// <summary>Reads a 128-bit integer.</summary>
    public Int128 ReadInt128()
    {
        ulong lower = ReadUInt64();
        ulong upper = ReadUInt64();
        return new Int128(upper, lower);
    }

    /// <summary>Reads an unsigned 128-bit integer.</summary>
    public UInt128 ReadUInt128()
    {
        ulong lower = ReadUInt64();
        ulong upper = ReadUInt64();
        return new UInt128(upper, lower);
    }

    /// <summary>Reads a non-negative integer written in 7-bit groups.</summary>
    public uint ReadVarUInt32()
    {
        int start = _position;
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = ReadByte();
            // Only the writer's form is accepted: no bits past 32, no redundant trailing zero group.
            if (shift == 28 && b > 0x0F) throw Corrupt($"a length prefix overflows 32 bits (fifth byte 0x{b:x2})", start);
            if (b == 0 && shift > 0) throw Corrupt("a length prefix is not in its shortest form", start);
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Corrupt("a length prefix is longer than 5 bytes", start);
    }

    /// <summary>Reads a collection count of elements of at least one byte each; -1 means null.</summary>
    public int ReadCount() => ReadCount(1);

    /// <summary>
    /// Reads a collection count; -1 means null. The count is checked against the payload before the
    /// caller allocates: elements of <paramref name="minElementSize"/> bytes or more must fit the bytes left,
    /// and zero-size elements (<paramref name="minElementSize"/> 0) the limit described at <see cref="MaxZeroSizeElementsBase"/>.
    /// </summary>
    /// <param name="minElementSize">The fewest payload bytes one element can take (0 for types without data).</param>
    public int ReadCount(int minElementSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minElementSize);
        int start = _position;
        uint raw = ReadVarUInt32();
        if (raw == 0) return -1;
        long count = (long)raw - 1;
        if (minElementSize == 0)
        {
            // A prefix holds up to 2^32 - 2, and a payload of 128 MiB or more has a zero-size budget above int.MaxValue:
            // such a count would come back negative. (Sized elements are bounded by the bytes left, below.)
            if (count > int.MaxValue)
                throw Corrupt($"it claims {count} elements of zero size, more than a collection can hold ({int.MaxValue})", start);
            if (count > _zeroSizeElementsLeft)
                throw Corrupt($"it claims {count} elements of zero size, more than the {_zeroSizeElementsLeft} it may still hold " +
                              $"(a payload of {_end - _start} bytes holds at most {MaxZeroSizeElementsBase} + {MaxZeroSizeElementsPerByte} per byte in all)", start);
            _zeroSizeElementsLeft -= count;
            return (int)count;
        }
        if (count > Remaining / minElementSize)
            throw Corrupt($"it claims {count} elements of at least {minElementSize} byte(s) each but only {Remaining} bytes remain", start);
        if (count > _elementsLeft)
            throw Corrupt($"it claims {count} more elements, but its {_end - _start} bytes can hold only {_elementsLeft} more " +
                          "(elements already claimed by enclosing collections included)", start);
        _elementsLeft -= count;
        return (int)count;
    }

    /// <summary>Reads a string (possibly null), checking that it is well-formed UTF-8.</summary>
    public string? ReadString()
    {
        int start = _position;
        uint raw = ReadVarUInt32();
        if (raw == 0) return null;
        uint length = raw - 1;
        if (length > (uint)Remaining)
            throw new FluxPayloadException($"The payload is truncated or corrupt: it claims a string of {length} bytes but only {Remaining} bytes remain", start);
        var bytes = Take((int)length);
        return IsAscii(bytes) ? WidenAscii(bytes) : DecodeUtf8(bytes, start);
    }

    // Apart, so that the UTF-8 decoder stays out of a worker's start-up when its strings are ASCII.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string DecodeUtf8(ReadOnlySpan<byte> bytes, int offset)
    {
        // Encoding.UTF8 would replace bad sequences with U+FFFD: a different string than was written.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw Corrupt($"a string of {bytes.Length} bytes is not valid UTF-8", offset);
        return Encoding.UTF8.GetString(bytes);
    }

    // ASCII, the common case (names, paths, ids), is widened by hand: a worker's first use of the
    // UTF-8 decoder costs it about 2 ms of start-up.
    private static bool IsAscii(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (b >= 0x80) return false;
        return true;
    }

    private static unsafe string WidenAscii(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            return string.Create(bytes.Length, (nint)p, static (chars, source) =>
            {
                byte* b = (byte*)source;
                for (int i = 0; i < chars.Length; i++) chars[i] = (char)b[i];
            });
        }
    }

    /// <summary>Reads a byte array (possibly null).</summary>
    public byte[]? ReadBytes()
    {
        int count = ReadCount(1);
        return count < 0 ? null : Take(count).ToArray();
    }

    /// <summary>Reads a GUID.</summary>
    public Guid ReadGuid() => new(Take(16));

    /// <summary>Reads a DateTime.</summary>
    public DateTime ReadDateTime()
    {
        long binary = ReadInt64();
        try
        {
            return DateTime.FromBinary(binary);
        }
        catch (ArgumentException ex)
        {
            throw Corrupt($"a DateTime has the invalid binary form 0x{binary:x16}", _position - 8, ex);
        }
    }

    /// <summary>Reads a DateTimeOffset.</summary>
    public DateTimeOffset ReadDateTimeOffset()
    {
        long ticks = ReadInt64();
        long offset = ReadInt64();
        try
        {
            return new DateTimeOffset(ticks, new TimeSpan(offset));
        }
        catch (ArgumentException ex)
        {
            throw Corrupt($"a DateTimeOffset of {ticks} ticks and an offset of {offset} ticks is out of range", _position - 16, ex);
        }
    }

    /// <summary>Reads a TimeSpan.</summary>
    public TimeSpan ReadTimeSpan() => new(ReadInt64());

    /// <summary>Reads a DateOnly.</summary>
    public DateOnly ReadDateOnly()
    {
        int day = ReadInt32();
        if ((uint)day > (uint)DateOnly.MaxValue.DayNumber)
            throw Corrupt($"a DateOnly has day number {day} (0 to {DateOnly.MaxValue.DayNumber} expected)", _position - 4);
        return DateOnly.FromDayNumber(day);
    }

    /// <summary>Reads a TimeOnly.</summary>
    public TimeOnly ReadTimeOnly()
    {
        long ticks = ReadInt64();
        if ((ulong)ticks >= TimeSpan.TicksPerDay)
            throw Corrupt($"a TimeOnly has {ticks} ticks (0 to {TimeSpan.TicksPerDay - 1} expected)", _position - 8);
        return new TimeOnly(ticks);
    }

    /// <summary>Reads a complex number.</summary>
    public System.Numerics.Complex ReadComplex()
    {
        double re = ReadDouble();
        double im = ReadDouble();
        return new System.Numerics.Complex(re, im);
    }

    /// <summary>Reads an object's presence marker; call <see cref="EndObject"/> after its members when true.</summary>
    public bool BeginObject()
    {
        byte marker = ReadByte();
        if (marker == 0) return false;
        if (marker != 1) throw Corrupt($"an object's presence marker is {marker}, not 0 or 1", _position - 1);
        Enter();
        return true;
    }

    /// <summary>Ends an object begun with <see cref="BeginObject"/>.</summary>
    public void EndObject() => _depth--;

    /// <summary>
    /// Starts a struct's members (structs have no presence marker): a struct can contain itself through a
    /// collection, so it counts toward <see cref="MaxDepth"/> like an object. Call <see cref="EndStruct"/> after its members.
    /// </summary>
    public void BeginStruct() => Enter();

    /// <summary>Ends a struct begun with <see cref="BeginStruct"/>.</summary>
    public void EndStruct() => _depth--;

    private void Enter()
    {
        // Bounded here, not by the stack: a deeply nested hostile payload must fail, not overflow the stack.
        if (++_depth > MaxDepth) throw Corrupt($"it nests objects more than {MaxDepth} levels deep", _position);
    }

    /// <summary>The error generated code throws when a dictionary key it read is null (no dictionary can hold one).</summary>
    public FluxPayloadException NullDictionaryKey() => Corrupt("a dictionary key is null", _position);

    /// <summary>True once generated code has read every argument (what fails later is the app's own doing).</summary>
    public bool ArgumentsCompleted { get; private set; }

    /// <summary>Called by generated code after the last argument: checks that nothing is left over.</summary>
    public void CompleteArguments()
    {
        if (Remaining != 0)
            throw new FluxPayloadException($"The arguments payload has {Remaining} unread bytes: it was written for a different signature", _position);
        ArgumentsCompleted = true;
    }

    /// <summary>Called after a result value is read: checks that nothing follows it.</summary>
    public void CompleteResult()
    {
        if (Remaining != 0)
            throw new FluxPayloadException($"The result payload has {Remaining} unread bytes after its value: it was written for a different signature or is corrupt", _position);
    }
}
