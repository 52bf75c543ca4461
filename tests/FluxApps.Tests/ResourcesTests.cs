using FluxApps.Runtime;

namespace FluxApps.Tests;

public sealed class ResourcesTests
{
    private static readonly FluxAppDescriptor s_app = new("T.App(int)", "T.App", typeof(ResourcesTests),
        cpus: 2, gpus: 1, mpiRanks: 4, nodes: 2, exclusive: false, timeLimit: "10m", queue: "batch", urgency: 20, name: null);

    [Fact]
    public void AttributeValuesApplyWithoutOverrides()
    {
        var r = JobResources.Resolve(s_app, null);
        Assert.Equal((2, 1, 4, 2, false, "10m", 600.0, "batch", 20, "T.App"),
            (r.Cpus, r.Gpus, r.MpiRanks, r.Nodes, r.Exclusive, r.TimeLimit, r.TimeLimitSeconds, r.Queue, r.Urgency, r.Name));
        Assert.Equal(8, r.TotalCores);
        Assert.Equal(4, r.TotalGpus);
    }

    [Fact]
    public void EveryPropertyCanBeOverriddenPerCall()
    {
        var r = JobResources.Resolve(s_app, new FluxCallOptions
        {
            Cpus = 8, Gpus = 0, MpiRanks = 16, Nodes = 4, Exclusive = true, TimeLimit = "90s", Queue = "debug", Urgency = 31, Name = "custom",
        });
        Assert.Equal((8, 0, 16, 4, true, "90s", 90.0, "debug", 31, "custom"),
            (r.Cpus, r.Gpus, r.MpiRanks, r.Nodes, r.Exclusive, r.TimeLimit, r.TimeLimitSeconds, r.Queue, r.Urgency, r.Name));
    }

    [Fact]
    public void InvalidCombinationsNameTheAppAndTheValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => JobResources.Resolve(s_app, new FluxCallOptions { MpiRanks = 1 }));
        Assert.Contains("T.App", ex.Message);
        Assert.Contains("Nodes = 2 exceeds MpiRanks = 1", ex.Message);
        Assert.Equal("Nodes", ex.ParamName);
        Assert.Contains("Queue", Assert.Throws<ArgumentException>(() => JobResources.Resolve(s_app, new FluxCallOptions { Queue = " " })).Message);
        Assert.Contains("TimeLimit = \"2 hours\"", Assert.Throws<ArgumentException>(() => JobResources.Resolve(s_app, new FluxCallOptions { TimeLimit = "2 hours" })).Message);
    }

    [Fact]
    public void BackendChoiceHonoursTheEnvironmentOverride()
    {
        string? saved = Environment.GetEnvironmentVariable("FLUXAPPS_BACKEND");
        try
        {
            Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", "local");
            Assert.Equal(FluxBackend.Local, BackendSelection.Choose(new FluxAppsOptions()));
            Assert.Equal(FluxBackend.Local, BackendSelection.Choose(new FluxAppsOptions { Backend = FluxBackend.Local }));
            Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", "slurm");
            var ex = Assert.Throws<ArgumentException>(() => BackendSelection.Choose(new FluxAppsOptions()));
            Assert.Contains("\"slurm\"", ex.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", saved);
        }
    }
}
