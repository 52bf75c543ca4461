using FluxApps;
using FluxApps.Backends;

namespace FluxApps.Tests;

public sealed class JobIdTests
{
    [Theory]
    [InlineData(6731191091817518UL, "ƒuZZybuNNy")] // RFC 19's own example
    [InlineData(0UL, "ƒ1")]
    [InlineData(57UL, "ƒz")]
    [InlineData(58UL, "ƒ21")]
    [InlineData(ulong.MaxValue, "ƒjpXCZedGfVQ")]
    public void F58EncodesAndDecodes(ulong value, string f58)
    {
        var id = new FluxJobId(value);
        Assert.Equal(f58, id.ToString());
        Assert.Equal(id, FluxJobId.Parse(f58));
        Assert.Equal(id, FluxJobId.Parse("f" + f58[1..]));
        Assert.Equal("f" + f58[1..], id.ToString("f"));
    }

    [Fact]
    public void OtherRfc19FormsParse()
    {
        var id = new FluxJobId(6731191091817518);
        Assert.Equal(id, FluxJobId.Parse("6731191091817518"));
        Assert.Equal(id, FluxJobId.Parse(" 0x17e9fb8df16c2e "));
        Assert.Equal(id, FluxJobId.Parse("0017.e9fb.8df1.6c2e"));
        Assert.Equal("0x17e9fb8df16c2e", id.ToString("x"));
        Assert.Equal("0017.e9fb.8df1.6c2e", id.ToString("dothex"));
        Assert.Equal("6731191091817518", id.ToString("d"));
        Assert.Equal("ƒuZZybuNNy", $"{id}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("ƒ")]
    [InlineData("ƒ0OIl")] // characters outside the base58 alphabet
    [InlineData("ƒzzzzzzzzzzzzzz")] // overflows 64 bits
    [InlineData("-5")]
    [InlineData("0xZZ")]
    [InlineData("1.2.3")]
    public void MalformedIdsAreRejectedWithTheText(string text)
    {
        Assert.False(FluxJobId.TryParse(text, out _));
        var ex = Assert.Throws<FormatException>(() => FluxJobId.Parse(text));
        Assert.Contains($"\"{text}\"", ex.Message);
    }

    [Fact]
    public void GeneratedIdsAreUniqueAndIncreasing()
    {
        var generator = new JobIdGenerator(42);
        var ids = Enumerable.Range(0, 5000).Select(_ => generator.Next()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.OrderBy(i => i.Value), ids);
        Assert.All(ids, id => Assert.Equal(42UL, (id.Value >> 10) & 0x3FFF)); // generator id field of the FLUID
    }
}
