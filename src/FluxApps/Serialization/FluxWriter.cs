using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace FluxApps.Serialization;

/// <summary>
/// Writes the compact binary form of app arguments and results. Generated code calls it; the
/// format is private to one build of a program (payloads carry the build id), so it carries no
/// field names or type tags.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FluxWriter
{
    private byte[] _buffer;
    private int _length;
    private int _depth;

    /// <summary>Creates a writer with room for <paramref name="capacity"/> bytes.</summary>
    public FluxWriter(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    /// <summary>Number of bytes written.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => new(_buffer, 0, _length);

    /// <summary>The bytes written so far, as memory (valid until the next write).</summary>
    internal ReadOnlyMemory<byte> WrittenMemory => new(_buffer, 0, _length);

    /// <summary>The bytes written so far, as a new array.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = new Span<byte>(_buffer, _length, count);
        _length += count;
        return span;
    }

    /// <summary>Writes raw bytes.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>Writes one byte.</summary>
    public void WriteByte(byte value) => Reserve(1)[0] = value;

    /// <summary>Writes a boolean.</summary>
    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    /// <summary>Writes a signed byte.</summary>
    public void WriteSByte(sbyte value) => WriteByte(unchecked((byte)value));

    /// <summary>Writes a 16-bit integer.</summary>
    public void WriteInt16(short value) => WriteUInt16(unchecked((ushort)value));

    /// <summary>Writes an unsigned 16-bit integer.</summary>
    public void WriteUInt16(ushort value) =>
        Unsafe.WriteUnaligned(ref MemoryMarshal.GetReference(Reserve(2)), BitConverter.IsLittleEndian ? value : (ushort)(value >> 8 | value << 8));

    /// <summary>Writes a 32-bit integer.</summary>
    public void WriteInt32(int value) => WriteUInt32(unchecked((uint)value));

    /// <summary>Writes an unsigned 32-bit integer.</summary>
    public void WriteUInt32(uint value) =>
        Unsafe.WriteUnaligned(ref MemoryMarshal.GetReference(Reserve(4)), BitConverter.IsLittleEndian ? value : SwapBytes(value));

    /// <summary>Writes a 64-bit integer.</summary>
    public void WriteInt64(long value) => WriteUInt64(unchecked((ulong)value));

    /// <summary>Writes an unsigned 64-bit integer.</summary>
    public void WriteUInt64(ulong value) =>
        Unsafe.WriteUnaligned(ref MemoryMarshal.GetReference(Reserve(8)),
            BitConverter.IsLittleEndian ? value : SwapBytes((uint)(value >> 32)) | (ulong)SwapBytes((uint)value) << 32);

    private static uint SwapBytes(uint v) => v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;

    /// <summary>Writes a single-precision float.</summary>
    public void WriteSingle(float value) => WriteInt32(BitConverter.SingleToInt32Bits(value));

    /// <summary>Writes a double-precision float.</summary>
    public void WriteDouble(double value) => WriteInt64(BitConverter.DoubleToInt64Bits(value));

    /// <summary>Writes a half-precision float.</summary>
    public void WriteHalf(Half value) => WriteInt16(BitConverter.HalfToInt16Bits(value));

    /// <summary>Writes a decimal.</summary>
    public void WriteDecimal(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        for (int i = 0; i < 4; i++) WriteInt32(bits[i]);
    }

    /// <summary>Writes a UTF-16 code unit.</summary>
    public void WriteChar(char value) => WriteUInt16(value);

    /// <summary>Writes a 128-bit integer.</summary>
    public void WriteInt128(Int128 value)
    {
        WriteUInt64((ulong)value);
        WriteUInt64((ulong)(value >> 64));
    }

    /// <summary>Writes an unsigned 128-bit integer.</summary>
    public void WriteUInt128(UInt128 value)
    {
        WriteUInt64((ulong)value);
        WriteUInt64((ulong)(value >> 64));
    }

    /// <summary>Writes a non-negative integer in 7-bit groups.</summary>
    public void WriteVarUInt32(uint value)
    {
        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        WriteByte((byte)value);
    }

    /// <summary>Writes a collection count, or -1 for null.</summary>
    public void WriteCount(int count) => WriteVarUInt32((uint)(count + 1));

    /// <summary>Writes a string (null allowed) as UTF-8.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteVarUInt32(0);
            return;
        }
        if (IsAscii(value))
        {
            // Narrowed by hand, like FluxReader widens it: no UTF-8 encoder on a worker's path.
            WriteVarUInt32((uint)value.Length + 1);
            var target = Reserve(value.Length);
            for (int i = 0; i < value.Length; i++) target[i] = (byte)value[i];
            return;
        }
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 256)
        {
            Span<byte> tmp = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(value, tmp);
            WriteVarUInt32((uint)n + 1);
            WriteRaw(tmp[..n]);
        }
        else
        {
            int n = Encoding.UTF8.GetByteCount(value);
            WriteVarUInt32((uint)n + 1);
            Encoding.UTF8.GetBytes(value, Reserve(n));
        }
    }

    private static bool IsAscii(string value)
    {
        foreach (char c in value)
            if (c >= 0x80) return false;
        return true;
    }

    /// <summary>Writes a byte array (null allowed).</summary>
    public void WriteBytes(byte[]? value)
    {
        if (value is null)
        {
            WriteCount(-1);
            return;
        }
        WriteCount(value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a GUID.</summary>
    public void WriteGuid(Guid value) => value.TryWriteBytes(Reserve(16));

    /// <summary>Writes a DateTime (ticks and kind).</summary>
    public void WriteDateTime(DateTime value) => WriteInt64(value.ToBinary());

    /// <summary>Writes a DateTimeOffset (ticks and offset).</summary>
    public void WriteDateTimeOffset(DateTimeOffset value)
    {
        WriteInt64(value.Ticks);
        WriteInt64(value.Offset.Ticks);
    }

    /// <summary>Writes a TimeSpan.</summary>
    public void WriteTimeSpan(TimeSpan value) => WriteInt64(value.Ticks);

    /// <summary>Writes a DateOnly.</summary>
    public void WriteDateOnly(DateOnly value) => WriteInt32(value.DayNumber);

    /// <summary>Writes a TimeOnly.</summary>
    public void WriteTimeOnly(TimeOnly value) => WriteInt64(value.Ticks);

    /// <summary>Writes a complex number.</summary>
    public void WriteComplex(System.Numerics.Complex value)
    {
        WriteDouble(value.Real);
        WriteDouble(value.Imaginary);
    }

    /// <summary>
    /// Writes the presence marker of a reference (false for null) and guards against cyclic
    /// graphs: call <see cref="EndObject"/> after the object's members.
    /// </summary>
    public bool BeginObject(object? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return false;
        }
        if (++_depth > FluxReader.MaxDepth)
            throw new InvalidOperationException($"The value is nested more than {FluxReader.MaxDepth} levels deep (a cycle?): {value.GetType().FullName} cannot be serialized.");
        WriteByte(1);
        return true;
    }

    /// <summary>Ends an object begun with <see cref="BeginObject"/>.</summary>
    public void EndObject() => _depth--;

    /// <summary>
    /// Starts a struct's members: a struct can reach itself again through an array or collection, so it
    /// counts toward the nesting limit like an object. Call <see cref="EndStruct"/> after its members.
    /// </summary>
    public void BeginStruct()
    {
        if (++_depth > FluxReader.MaxDepth)
            throw new InvalidOperationException($"A value is nested more than {FluxReader.MaxDepth} levels deep (a cycle through an array or collection?) and cannot be serialized.");
    }

    /// <summary>Ends a struct begun with <see cref="BeginStruct"/>.</summary>
    public void EndStruct() => _depth--;

    /// <summary>True once generated code has started writing the app's return value (the app itself has returned).</summary>
    public bool ResultStarted { get; private set; }

    /// <summary>Called by generated code when the app has returned, before its value is written.</summary>
    public void StartResult() => ResultStarted = true;
}
