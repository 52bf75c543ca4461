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
    /// <summary>Deepest nesting of objects a payload may have.</summary>
    public const int MaxDepth = 256;

    private readonly byte[] _buffer;
    private readonly int _end;
    private int _position;
    private int _depth;

    /// <summary>Reads <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public FluxReader(byte[] buffer, int offset = 0) : this(buffer, offset, buffer.Length - offset) { }

    /// <summary>Reads <paramref name="count"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public FluxReader(byte[] buffer, int offset, int count)
    {
        _buffer = buffer;
        _position = offset;
        _end = offset + count;
    }

    /// <summary>Current offset in the buffer.</summary>
    public int Position => _position;

    /// <summary>Bytes left to read.</summary>
    public int Remaining => _end - _position;

    /// <summary>The bytes read from <paramref name="start"/> (an earlier <see cref="Position"/>) up to the current position.</summary>
    internal ReadOnlyMemory<byte> Consumed(int start) => new(_buffer, start, _position - start);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _position + count > _end)
            throw new FormatException($"The payload is truncated: {count} more bytes were expected at offset {_position}, {_end - _position} remain.");
        var span = new ReadOnlySpan<byte>(_buffer, _position, count);
        _position += count;
        return span;
    }

    /// <summary>Reads raw bytes.</summary>
    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a boolean.</summary>
    public bool ReadBoolean() => ReadByte() != 0;

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
        Span<int> bits = stackalloc int[4];
        for (int i = 0; i < 4; i++) bits[i] = ReadInt32();
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
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = ReadByte();
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new FormatException("The payload is corrupt: a length prefix is too long.");
    }

    /// <summary>Reads a collection count; -1 means null.</summary>
    public int ReadCount()
    {
        uint raw = ReadVarUInt32();
        long count = (long)raw - 1;
        if (count > Remaining)
            throw new FormatException($"The payload is corrupt: a collection of {count} items cannot fit the {Remaining} bytes left.");
        return (int)count;
    }

    /// <summary>Reads a string (possibly null).</summary>
    public string? ReadString()
    {
        uint raw = ReadVarUInt32();
        if (raw == 0) return null;
        var bytes = Take((int)(raw - 1));
        return IsAscii(bytes) ? WidenAscii(bytes) : Encoding.UTF8.GetString(bytes);
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
        int count = ReadCount();
        return count < 0 ? null : Take(count).ToArray();
    }

    /// <summary>Reads a GUID.</summary>
    public Guid ReadGuid() => new(Take(16));

    /// <summary>Reads a DateTime.</summary>
    public DateTime ReadDateTime() => DateTime.FromBinary(ReadInt64());

    /// <summary>Reads a DateTimeOffset.</summary>
    public DateTimeOffset ReadDateTimeOffset()
    {
        long ticks = ReadInt64();
        long offset = ReadInt64();
        return new DateTimeOffset(ticks, new TimeSpan(offset));
    }

    /// <summary>Reads a TimeSpan.</summary>
    public TimeSpan ReadTimeSpan() => new(ReadInt64());

    /// <summary>Reads a DateOnly.</summary>
    public DateOnly ReadDateOnly() => DateOnly.FromDayNumber(ReadInt32());

    /// <summary>Reads a TimeOnly.</summary>
    public TimeOnly ReadTimeOnly() => new(ReadInt64());

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
        if (ReadByte() == 0) return false;
        if (++_depth > MaxDepth) throw new FormatException($"The payload nests objects more than {MaxDepth} levels deep.");
        return true;
    }

    /// <summary>Ends an object begun with <see cref="BeginObject"/>.</summary>
    public void EndObject() => _depth--;

    /// <summary>True once generated code has read every argument (what fails later is the app's own doing).</summary>
    public bool ArgumentsCompleted { get; private set; }

    /// <summary>Called by generated code after the last argument: checks that nothing is left over.</summary>
    public void CompleteArguments()
    {
        if (Remaining != 0)
            throw new FormatException($"The arguments payload has {Remaining} unread bytes: it was written for a different signature.");
        ArgumentsCompleted = true;
    }
}
