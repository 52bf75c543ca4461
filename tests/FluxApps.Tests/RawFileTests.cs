using FluxApps.Runtime;

namespace FluxApps.Tests;

public sealed class RawFileTests
{
    [Theory]
    [InlineData("payload.bin", 0)]
    [InlineData("payload.bin", 1)]
    [InlineData("données-π.bin", 70_000)] // a non-ASCII name, and more than one read's worth
    public void WritesAndReadsWholeFiles(string name, int size)
    {
        string dir = Directory.CreateTempSubdirectory("fluxapps-rawfile-").FullName;
        try
        {
            string path = Path.Combine(dir, name);
            byte[] data = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();
            RawFile.WriteAllBytes(path, data);
            Assert.Equal(data, File.ReadAllBytes(path));
            Assert.Equal(data, RawFile.ReadAllBytes(path));
            // Replacing a longer file truncates it.
            RawFile.WriteAllBytes(path, new byte[] { 42 });
            Assert.Equal(new byte[] { 42 }, RawFile.ReadAllBytes(path));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void AMissingFileIsNamedInTheError()
    {
        string path = Path.Combine(Path.GetTempPath(), "fluxapps-no-such-dir-" + Guid.NewGuid().ToString("N"), "args.bin");
        var read = Assert.ThrowsAny<FileNotFoundException>(() => RawFile.ReadAllBytes(path));
        Assert.Contains(path, read.Message);
        var write = Assert.ThrowsAny<IOException>(() => RawFile.WriteAllBytes(path, new byte[1]));
        Assert.Contains(path, write.Message);
    }
}
