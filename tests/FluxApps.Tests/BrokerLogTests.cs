using FluxApps.Backends.Flux;

namespace FluxApps.Tests;

/// <summary>The private instance's broker log, made in a shared directory such as /tmp, is never written through something planted at its name.</summary>
public sealed class BrokerLogTests
{
    [Fact]
    public void APlantedSymlinkAtTheLogsNameIsRefusedAndItsTargetLeftAlone()
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-brokerlog-").FullName;
        try
        {
            string victim = Path.Combine(dir, "victim");
            File.WriteAllText(victim, "precious");
            File.CreateSymbolicLink(Path.Combine(dir, "broker.log"), victim);
            var ex = Assert.Throws<FluxConnectionException>(() => FluxInstance.CreatePrivateLog(dir, "broker.log"));
            Assert.Contains(Path.Combine(dir, "broker.log"), ex.Message);
            Assert.Equal("precious", File.ReadAllText(victim));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void TheLogIsANewFileOnlyItsOwnerCanRead()
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-brokerlog-").FullName;
        try
        {
            string path = FluxInstance.CreatePrivateLog(dir, "broker.log");
            Assert.Equal(Path.Combine(dir, "broker.log"), path);
            Assert.Equal(0, new FileInfo(path).Length);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
