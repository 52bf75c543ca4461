using FluxApps.Backends;

namespace FluxApps.Tests;

public sealed class NativeSpawnerTests
{
    [Theory]
    [InlineData(0x0000, 0)]     // exit(0)
    [InlineData(0x0300, 3)]     // exit(3)
    [InlineData(0xff00, 255)]   // exit(255)
    [InlineData(0x0009, 137)]   // killed by SIGKILL
    [InlineData(0x008b, 139)]   // SIGSEGV with a core dump (0x80 is the core flag)
    [InlineData(0x000f, 143)]   // SIGTERM
    public void WaitStatusesDecodeAsProcessExitCodes(int status, int expected) =>
        Assert.Equal(expected, NativeSpawner.DecodeWaitStatus(status));
}
