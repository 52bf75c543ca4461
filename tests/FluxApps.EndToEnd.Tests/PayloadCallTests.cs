using FluxApps.TestApps;
using FluxApps.TestApps.Payloads;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Payloads that once could not travel, through a real stub, worker and result.</summary>
public sealed class PayloadCallTests(LocalRuntimeFixture fixture) : IClassFixture<LocalRuntimeFixture>
{
    [Fact]
    public async Task ZeroSizeElementsTravelToAWorkerAndBack()
    {
        var values = PayloadSamples.ZeroSize(count: 9);
        Assert.Equivalent(values, await PayloadApps.EchoZeroSizeAsync(values, fixture.Options), strict: true);
        // The zero-size array is the payload's last value: nothing follows its count.
        Assert.Equal(1 + 2000, await PayloadApps.CountNothingsAsync(1, new Nothing[2000], fixture.Options));
        Assert.Equal(3, (await PayloadApps.EchoTuplesAsync([default, default, default], fixture.Options)).Count);
    }

    [Fact]
    public async Task RecursiveStructsAndObjectsTravelToAWorkerAndBack()
    {
        Assert.Equal(99, (await PayloadApps.EchoTreeAsync(PayloadSamples.Tree(100), fixture.Options)).Value);
        Assert.Equal("n99", (await PayloadApps.EchoNodeAsync(PayloadSamples.Node(100), fixture.Options)).Label);
    }
}
