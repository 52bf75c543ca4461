using FluxApps.Serialization;

namespace FluxApps.Tests;

/// <summary>A collection count above int.MaxValue is corrupt, even where the zero-size budget would allow it.</summary>
public sealed class CountLimitTests
{
    [Fact]
    public void ACountOfZeroSizeElementsAboveIntMaxValueIsRefusedNamingTheCount()
    {
        // 2^31 zero-size elements fit the budget of a payload of 128 MiB and more (16 per byte).
        var payload = new byte[(1 << 27) + 4096];
        byte[] prefix = [0x81, 0x80, 0x80, 0x80, 0x08]; // 2^31 + 1: a count of 2^31
        prefix.CopyTo(payload, 0);
        var reader = new FluxReader(payload);
        var ex = Assert.Throws<FluxPayloadException>(() => reader.ReadCount(0));
        Assert.Contains("2147483648 elements", ex.Message);
    }
}
