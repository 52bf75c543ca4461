using FluxApps.Backends.Flux;

namespace FluxApps.Tests;

/// <summary>An instance's resource set (RFC 20 R) as the Flux backend sizes default pool workers from it.</summary>
public sealed class ResourceSetTests
{
    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-3", 4)]
    [InlineData("0-3,8,10-11", 7)]
    [InlineData("[0-1,5]", 3)]
    [InlineData("", 0)]
    [InlineData("3-1", -1)]
    [InlineData("a", -1)]
    [InlineData("0-", -1)]
    [InlineData("-1", -1)]
    public void IdsetsCountTheirIds(string idset, int count) => Assert.Equal(count, ResourceSet.IdsetCount(idset));

    [Fact]
    public void ATestInstancesSetHasItsBrokersAndTheirCores()
    {
        // As `flux start --test-size=2` writes it on a 2-core machine.
        var r = ResourceSet.Parse("""{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-1"}}],"starttime":0.0,"expiration":0.0,"nodelist":["vm,vm"]}}""");
        Assert.Equal(new ResourceSet(2, 2, 0), r);
    }

    [Fact]
    public void UnlikeNodesGiveTheSmallestOnesCoresAndGpus()
    {
        var r = ResourceSet.Parse("""
            {"version":1,"execution":{"R_lite":[
              {"rank":"0-3","children":{"core":"0-63","gpu":"0-3"}},
              {"rank":"4","children":{"core":"0-31","gpu":"0-7"}},
              {"rank":"5-6","children":{"core":"0-47"}}]}}
            """);
        Assert.Equal(new ResourceSet(7, 32, 0), r);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""{"version":2,"execution":{"R_lite":[{"rank":"0","children":{"core":"0"}}]}}""")]
    [InlineData("""{"version":1}""")]
    [InlineData("""{"version":1,"execution":{"R_lite":[]}}""")]
    [InlineData("""{"version":1,"execution":{"R_lite":[{"rank":"0","children":{"gpu":"0"}}]}}""")]
    [InlineData("""{"version":1,"execution":{"R_lite":[{"rank":"x","children":{"core":"0"}}]}}""")]
    [InlineData("""{"version":1,"execution":{"R_lite":[{"children":{"core":"0"}}]}}""")]
    public void AnythingElseIsNoSet(string? json) => Assert.Null(ResourceSet.Parse(json));
}
