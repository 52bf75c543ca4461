using FluxApps.Serialization;

namespace FluxApps.Tests;

public sealed class SerializationTests
{
    [Fact]
    public void PrimitivesRoundTripAtTheirLimits()
    {
        var w = new FluxWriter(4);
        w.WriteBoolean(true);
        w.WriteSByte(sbyte.MinValue);
        w.WriteInt16(short.MinValue);
        w.WriteUInt16(ushort.MaxValue);
        w.WriteInt32(int.MinValue);
        w.WriteUInt32(uint.MaxValue);
        w.WriteInt64(long.MinValue);
        w.WriteUInt64(ulong.MaxValue);
        w.WriteSingle(float.Epsilon);
        w.WriteDouble(double.NegativeInfinity);
        w.WriteDecimal(decimal.MinValue);
        w.WriteDecimal(-0.0001m);
        w.WriteChar('\uffff');
        w.WriteInt128(Int128.MinValue);
        w.WriteUInt128(UInt128.MaxValue);
        w.WriteString(null);
        w.WriteString("");
        w.WriteString(new string('é', 1000)); // larger than the stack buffer path
        w.WriteBytes(null);
        w.WriteBytes([1, 2, 3]);
        var guid = Guid.NewGuid();
        w.WriteGuid(guid);
        var local = new DateTime(2026, 11, 25, 1, 2, 3, DateTimeKind.Local);
        w.WriteDateTime(local);
        var offset = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromMinutes(330));
        w.WriteDateTimeOffset(offset);
        w.WriteTimeSpan(TimeSpan.MinValue);
        w.WriteDateOnly(DateOnly.MaxValue);
        w.WriteTimeOnly(TimeOnly.MaxValue);
        w.WriteHalf(Half.MaxValue);
        w.WriteComplex(new System.Numerics.Complex(1.5, -2.5));
        w.WriteCount(int.MaxValue - 1);

        var r = new FluxReader(w.ToArray());
        Assert.True(r.ReadBoolean());
        Assert.Equal(sbyte.MinValue, r.ReadSByte());
        Assert.Equal(short.MinValue, r.ReadInt16());
        Assert.Equal(ushort.MaxValue, r.ReadUInt16());
        Assert.Equal(int.MinValue, r.ReadInt32());
        Assert.Equal(uint.MaxValue, r.ReadUInt32());
        Assert.Equal(long.MinValue, r.ReadInt64());
        Assert.Equal(ulong.MaxValue, r.ReadUInt64());
        Assert.Equal(float.Epsilon, r.ReadSingle());
        Assert.Equal(double.NegativeInfinity, r.ReadDouble());
        Assert.Equal(decimal.MinValue, r.ReadDecimal());
        Assert.Equal(-0.0001m, r.ReadDecimal());
        Assert.Equal('\uffff', r.ReadChar());
        Assert.Equal(Int128.MinValue, r.ReadInt128());
        Assert.Equal(UInt128.MaxValue, r.ReadUInt128());
        Assert.Null(r.ReadString());
        Assert.Equal("", r.ReadString());
        Assert.Equal(new string('é', 1000), r.ReadString());
        Assert.Null(r.ReadBytes());
        Assert.Equal(new byte[] { 1, 2, 3 }, r.ReadBytes());
        Assert.Equal(guid, r.ReadGuid());
        var readLocal = r.ReadDateTime();
        Assert.Equal(local, readLocal);
        Assert.Equal(DateTimeKind.Local, readLocal.Kind);
        var readOffset = r.ReadDateTimeOffset();
        Assert.Equal(offset, readOffset);
        Assert.Equal(offset.Offset, readOffset.Offset);
        Assert.Equal(TimeSpan.MinValue, r.ReadTimeSpan());
        Assert.Equal(DateOnly.MaxValue, r.ReadDateOnly());
        Assert.Equal(TimeOnly.MaxValue, r.ReadTimeOnly());
        Assert.Equal(Half.MaxValue, r.ReadHalf());
        Assert.Equal(new System.Numerics.Complex(1.5, -2.5), r.ReadComplex());
        Assert.Equal(0, r.Remaining - 5); // the count's varint is left
    }

    [Theory]
    [InlineData("plain ascii with \u007f and \u0000")]
    [InlineData("\u0080 just past ascii")]
    [InlineData("ünïcødé ✓ and 𝄞 (a surrogate pair)")]
    [InlineData("a")]
    public void AsciiAndNonAsciiStringsRoundTrip(string text)
    {
        var w = new FluxWriter();
        w.WriteString(text);
        w.WriteString(text + text);
        var r = new FluxReader(w.ToArray());
        Assert.Equal(text, r.ReadString());
        Assert.Equal(text + text, r.ReadString());
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void TruncatedPayloadsFailWithAClearError()
    {
        var w = new FluxWriter();
        w.WriteString("hello world");
        byte[] bytes = w.ToArray()[..5];
        var ex = Assert.Throws<FluxPayloadException>(() => new FluxReader(bytes).ReadString());
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void ImpossibleCountsAreRejectedBeforeAllocating()
    {
        var w = new FluxWriter();
        w.WriteCount(1_000_000);
        var ex = Assert.Throws<FluxPayloadException>(() => new FluxReader(w.ToArray()).ReadCount());
        Assert.Contains("1000000", ex.Message);
    }

    [Fact]
    public void LeftoverArgumentBytesMeanAnotherSignature()
    {
        var w = new FluxWriter();
        w.WriteInt32(1);
        w.WriteInt32(2);
        var r = new FluxReader(w.ToArray());
        r.ReadInt32();
        var ex = Assert.Throws<FluxPayloadException>(() => r.CompleteArguments());
        Assert.Contains("4 unread bytes", ex.Message);
        Assert.False(r.ArgumentsCompleted);
    }

    [Fact]
    public void CyclicGraphsAreRefusedInsteadOfOverflowingTheStack()
    {
        var w = new FluxWriter();
        var node = new object();
        var ex = Assert.Throws<InvalidOperationException>(() =>
        {
            for (int i = 0; i < FluxReader.MaxDepth + 1; i++) w.BeginObject(node);
        });
        Assert.Contains("cycle", ex.Message);
    }
}
