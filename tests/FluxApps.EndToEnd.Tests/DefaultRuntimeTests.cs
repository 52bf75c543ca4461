using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>
/// Runs alone: the default runtime is whichever runtime of the process started first, so beside
/// other test classes a stub without a runtime could land on theirs (full, or being disposed).
/// </summary>
[CollectionDefinition(nameof(DefaultRuntimeTests), DisableParallelization = true)]
public sealed class DefaultRuntimeCollection;

[Collection(nameof(DefaultRuntimeTests))]
public sealed class DefaultRuntimeTests
{
    [Fact]
    public async Task StubsWithoutARuntimeUseTheDefaultOne()
    {
        // Where flux is on PATH, Auto would start a private Flux instance; this suite is about the local backend.
        string? saved = Environment.GetEnvironmentVariable("FLUXAPPS_BACKEND");
        Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", "local");
        try
        {
            Assert.Equal(9, await Library.AddAsync(4, 5));
            Assert.Equal(FluxBackend.Local, FluxAppsRuntime.Default.Backend);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FLUXAPPS_BACKEND", saved);
        }
    }
}
