using System;

namespace FluxApps.TestApps;

/// <summary>Apps for the failure-path tests: payloads larger than a pool frame.</summary>
public static partial class ReliabilityApps
{
    /// <summary>Checks a large argument arrived whole: its length and a checksum of a few of its bytes.</summary>
    [FluxApp]
    public static long Fingerprint(byte[] data) => FingerprintOf(data);

    /// <summary>A large result: <paramref name="length"/> bytes, each its index modulo 251.</summary>
    [FluxApp]
    public static byte[] MakeBytes(int length)
    {
        var data = GC.AllocateUninitializedArray<byte>(length);
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i % 251);
        return data;
    }

    /// <summary>Length times 1,000,003 plus the bytes at every 1 MiB step: a value both sides compute the same way.</summary>
    public static long FingerprintOf(byte[] data)
    {
        long sum = data.LongLength * 1_000_003;
        for (long i = 0; i < data.LongLength; i += 1 << 20) sum += data[i] * (i + 1);
        if (data.Length > 0) sum += data[^1];
        return sum;
    }
}
