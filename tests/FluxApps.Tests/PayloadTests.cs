using FluxApps.Runtime;
using FluxApps.Serialization;
using FluxApps.TestApps;
using FluxApps.TestApps.Payloads;
using FluxApps.Worker;
using Xunit.Abstractions;

namespace FluxApps.Tests;

/// <summary>Payloads through the serializers the generator emitted for the test apps: zero-size elements, and hostile bytes.</summary>
public sealed class PayloadTests(ITestOutputHelper output)
{
    // ---- zero-size elements round-trip ----

    [Fact]
    public void CollectionsOfZeroSizeElementsRoundTrip()
    {
        var values = PayloadSamples.ZeroSize(count: 7);
        var back = GeneratedSerializers.RoundTrip(values);
        Assert.Equivalent(values, back, strict: true);
        Assert.Equal(7, back.Nothings.Length);
        Assert.Equal(7, back.Tuples.Count);
        Assert.Equal(7, back.Pairs.Length);
        Assert.Equal(7, back.Nested[1].Count);
        Assert.All(back.EmptyStrings, s => Assert.Equal("", s));
    }

    [Fact]
    public void AZeroSizeCollectionWithNothingAfterItRoundTrips()
    {
        // The payload ends right after the count: no bytes remain for the elements, and none are needed.
        byte[] payload = GeneratedSerializers.Write(new Nothing[1000]);
        Assert.Equal(2, payload.Length);
        Assert.Equal(1000, GeneratedSerializers.Read<Nothing[]>(payload).Length);
        Assert.Equal(1000, GeneratedSerializers.RoundTrip(Enumerable.Repeat(default(ValueTuple), 1000).ToList()).Count);
    }

    [Fact]
    public void ListsOfEmptyStringsAndNestedEmptyCollectionsRoundTrip()
    {
        Assert.Equal(Enumerable.Repeat("", 500), GeneratedSerializers.RoundTrip(Enumerable.Repeat("", 500).ToArray()));
        var nested = new List<List<Nothing>> { new(), new(), new(new Nothing[3]) };
        Assert.Equal([0, 0, 3], GeneratedSerializers.RoundTrip(nested).Select(l => l.Count));
        Assert.Null(GeneratedSerializers.RoundTrip((string[])null!));
    }

    [Fact]
    public void RecursiveStructsAndObjectsRoundTripUpToTheDepthLimit()
    {
        var tree = GeneratedSerializers.RoundTrip(PayloadSamples.Tree(FluxReader.MaxDepth));
        Assert.Equal(FluxReader.MaxDepth - 1, tree.Value);
        var node = GeneratedSerializers.RoundTrip(PayloadSamples.Node(FluxReader.MaxDepth));
        Assert.Equal("n" + (FluxReader.MaxDepth - 1), node.Label);
    }

    [Fact]
    public void ZeroSizeElementsAreBoundedByAFixedAllowancePlusSomePerPayloadByte()
    {
        var w = new FluxWriter();
        w.WriteCount(FluxReader.MaxZeroSizeElementsBase); // 3 bytes of varint: the allowance is the base plus 48
        Assert.Equal(FluxReader.MaxZeroSizeElementsBase, GeneratedSerializers.Read<Nothing[]>(w.ToArray()).Length);

        w = new FluxWriter();
        w.WriteCount(2 * FluxReader.MaxZeroSizeElementsBase);
        var ex = Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<Nothing[]>(w.ToArray()));
        Assert.Contains($"{2 * FluxReader.MaxZeroSizeElementsBase} elements of zero size", ex.Message);

        // The allowance is for the whole payload, not per collection: nested lists cannot multiply it.
        w = new FluxWriter();
        w.WriteCount(3);
        for (int i = 0; i < 3; i++) w.WriteCount(FluxReader.MaxZeroSizeElementsBase / 2);
        Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<List<List<Nothing>>>(w.ToArray()));
    }

    [Fact]
    public void EveryValidPayloadTheFuzzerStartsFromDecodes()
    {
        var fuzzer = new PayloadFuzzer(seed: 1);
        Assert.True(fuzzer.TargetNames.Count >= 20, string.Join(", ", fuzzer.TargetNames));
        Assert.Empty(fuzzer.CheckSeeds());
    }

    // ---- hostile payloads ----

    [Theory]
    [InlineData(uint.MaxValue, "4294967294 elements")]
    [InlineData(0x80000001u, "2147483648 elements")]
    [InlineData(1001u, "1000 elements")]
    public void HugeCountsFailBeforeAllocating(uint rawCount, string claim)
    {
        var w = new FluxWriter();
        w.WriteVarUInt32(rawCount);
        w.WriteRaw(new byte[12]);
        byte[] payload = w.ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<double[]>(payload));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader allocated for the claimed count");
        Assert.Contains(claim, ex.Message);
        Assert.Contains("of at least 8 byte(s) each but only 12 bytes remain", ex.Message);
    }

    [Fact]
    public void NestedCollectionsCannotEachClaimTheWholeRemainder()
    {
        // Counts as an outer and an inner collection would claim them: each fits the bytes left, both do not.
        var w = new FluxWriter();
        w.WriteCount(90);
        w.WriteCount(60);
        w.WriteRaw(new byte[98]);
        var r = new FluxReader(w.ToArray());
        Assert.Equal(90, r.ReadCount(1));
        var ex = Assert.Throws<FluxPayloadException>(() => r.ReadCount(1));
        Assert.Contains("60 more elements", ex.Message);
    }

    [Fact]
    public void DeeplyNestedStructsFailInsteadOfOverflowingTheStack()
    {
        var w = new FluxWriter();
        for (int i = 0; i < 100_000; i++)
        {
            w.WriteInt32(i);   // Tree.Value
            w.WriteCount(1);   // Tree.Children: one more level
        }
        var ex = Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<Tree>(w.ToArray()));
        Assert.Contains($"more than {FluxReader.MaxDepth} levels", ex.Message);
    }

    [Fact]
    public void DeeplyNestedObjectsFailInsteadOfOverflowingTheStack()
    {
        var w = new FluxWriter();
        for (int i = 0; i < 100_000; i++)
        {
            w.WriteByte(1);    // a Node
            w.WriteString(""); // its label
            w.WriteCount(1);   // its children: one more level
        }
        Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<Node>(w.ToArray()));
    }

    [Fact]
    public void AStructThatReachesItselfThroughAnArrayIsRefusedByTheWriter()
    {
        var children = new Tree[1];
        children[0] = new Tree { Value = 1, Children = children };
        var ex = Assert.Throws<InvalidOperationException>(() => GeneratedSerializers.Write(new Tree { Children = children }));
        Assert.Contains("cycle", ex.Message);
    }

    [Fact]
    public void ANullDictionaryKeyIsRefused()
    {
        var w = new FluxWriter();
        w.WriteCount(1);
        w.WriteString(null);
        w.WriteCount(0);
        var ex = Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<Dictionary<string, List<int>>>(w.ToArray()));
        Assert.Contains("dictionary key is null", ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x03, 0xC3, 0x28 }, "not valid UTF-8")]           // a lead byte followed by a non-continuation
    [InlineData(new byte[] { 0x03, 0x41, 0x42, 0x43 }, "1 unread bytes")]        // claims 2 bytes, 3 follow
    [InlineData(new byte[] { 0x04, 0xED, 0xA0, 0x80 }, "not valid UTF-8")]       // an encoded surrogate
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, "truncated or corrupt")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F }, "overflows 32 bits")]
    [InlineData(new byte[] { 0x81, 0x00 }, "shortest form")]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, "overflows 32 bits")]
    public void MalformedStringsAndLengthPrefixesAreRefused(byte[] payload, string reason)
    {
        var ex = Assert.Throws<FluxPayloadException>(() => GeneratedSerializers.Read<string>(payload));
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void ScalarsOutsideTheirTypesRangeAreRefused()
    {
        static FluxPayloadException Refused(Action<FluxWriter> write, Action<FluxReader> read)
        {
            var w = new FluxWriter();
            write(w);
            return Assert.Throws<FluxPayloadException>(() => read(new FluxReader(w.ToArray())));
        }

        Assert.Contains("boolean is 2", Refused(w => w.WriteByte(2), r => r.ReadBoolean()).Message);
        Assert.Contains("presence marker is 7", Refused(w => w.WriteByte(7), r => r.BeginObject()).Message);
        Assert.Contains("day number -1", Refused(w => w.WriteInt32(-1), r => r.ReadDateOnly()).Message);
        Assert.Contains($"{TimeSpan.TicksPerDay} ticks", Refused(w => w.WriteInt64(TimeSpan.TicksPerDay), r => r.ReadTimeOnly()).Message);
        Assert.Contains("flags 0x001d0000", Refused(w => { w.WriteInt64(1); w.WriteInt32(0); w.WriteInt32(29 << 16); }, r => r.ReadDecimal()).Message);
        Assert.Contains("DateTime", Refused(w => w.WriteInt64(long.MaxValue >> 1), r => r.ReadDateTime()).Message);
        Assert.Contains("DateTimeOffset", Refused(w => { w.WriteInt64(0); w.WriteInt64(TimeSpan.TicksPerHour * 15); }, r => r.ReadDateTimeOffset()).Message);
    }

    [Fact]
    public void BytesAfterAResultAreRefused()
    {
        var w = Payload.BeginResult();
        w.WriteString("value");
        w.WriteByte(0);
        var future = new FluxFuture<string>(Descriptor("R.Text()"), static r => r.ReadString()!);
        var ex = Assert.Throws<FluxPayloadException>(() => future.SetResult(Payload.OpenResult(w.ToArray(), "result.bin")));
        Assert.Contains("1 unread bytes after its value", ex.Message);
    }

    [Fact]
    public void ArgumentHeadersAreChecked()
    {
        var app = Descriptor("H.App(int)");
        byte[] valid = Payload.BuildArguments(app, [1, 2, 3, 4]).ToArray();
        Assert.Equal("H.App(int)", Payload.ReadArgumentsHeader(new FluxReader(valid), "args.bin").AppId);

        string Refusal(byte[] payload) => Assert.Throws<FluxPayloadException>(() => Payload.ReadArgumentsHeader(new FluxReader(payload), "args.bin")).Message;

        byte[] magic = (byte[])valid.Clone();
        magic[0] ^= 1;
        Assert.Contains("not a FluxApps arguments payload", Refusal(magic));
        byte[] version = (byte[])valid.Clone();
        version[4] = 9;
        Assert.Contains("payload format 9", Refusal(version));
        Assert.Contains("fewer than a header's", Refusal(valid[..3]));
        Assert.Contains("truncated", Refusal(valid[..20]));

        byte[] noBuild = (byte[])valid.Clone();
        int build = valid.AsSpan().IndexOf(app.BuildId.ToByteArray());
        noBuild.AsSpan(build, 16).Clear();
        Assert.Contains("build id is empty", Refusal(noBuild));

        Assert.Contains("no app id", Refusal(Payload.BuildArguments(Descriptor(""), []).ToArray()));
        Assert.Contains("app id in its header is 5000 characters long", Refusal(Payload.BuildArguments(Descriptor(new string('a', 5000)), []).ToArray()));
    }

    [Fact]
    public void ErrorReportsAreChecked()
    {
        byte[] valid = Payload.BuildError(new Payload.ErrorReport(Payload.ErrorKind.WorkerError, 3, "T", "M", "S")).ToArray();
        Assert.Equal(3, Payload.ParseError(valid, "error.3.bin").Rank);
        byte[] kind = (byte[])valid.Clone();
        kind[5] = 9;
        Assert.Contains("kind is 9", Assert.Throws<FluxPayloadException>(() => Payload.ParseError(kind, "error.3.bin")).Message);
        Assert.Contains("2 bytes after", Assert.Throws<FluxPayloadException>(() => Payload.ParseError([.. valid, 0, 0], "error.3.bin")).Message);
        Assert.Throws<FluxPayloadException>(() => Payload.ParseError(valid[..^1], "error.3.bin"));
    }

    [Fact]
    public void AWorkerRefusesACallWhosePayloadItCannotRead()
    {
        var field = typeof(PayloadApps).GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            .Single(f => f.Name.StartsWith("__fluxApp_EchoStrings_", StringComparison.Ordinal));
        var app = (FluxAppDescriptor)field.GetValue(null)!;
        var arguments = new FluxWriter();
        arguments.WriteVarUInt32(uint.MaxValue); // string[] of 4294967294 elements, and nothing after
        string dir = Directory.CreateTempSubdirectory("fluxapps-payload-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, Payload.ArgumentsFile), Payload.BuildArguments(app, arguments.WrittenSpan).ToArray());
            Assert.Equal(FluxWorker.WorkerFailedExitCode, FluxWorker.Run(dir));
            var report = Payload.ReadError(Path.Combine(dir, Payload.ErrorFile(0)));
            Assert.Equal(Payload.ErrorKind.WorkerError, report.Kind);
            Assert.Equal(typeof(FluxPayloadException).FullName, report.Type);
            Assert.Contains("4294967294 elements", report.Message);
            Assert.False(File.Exists(Path.Combine(dir, Payload.ResultFile)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // ---- fuzzing ----

    [Fact]
    public void MutatedPayloadsDecodeOrAreRefusedNeverCrash()
    {
        // Deterministic: the same payloads every run. `dotnet run --project tests/FluxApps.Benchmarks -c Release -- fuzz` runs longer.
        var report = new PayloadFuzzer(seed: 20261130).Run(iterations: 10_000);
        output.WriteLine($"{report.Tried} payloads in {report.Elapsed.TotalSeconds:F1} s: {report.Decoded} decoded, {report.Tried - report.Decoded - report.CrashCount} refused");
        foreach (var (kind, count) in report.RefusedByKind.OrderByDescending(p => p.Value)) output.WriteLine($"  {count,6}  {kind}");
        Assert.True(report.Crashes.Count == 0, string.Join(Environment.NewLine, report.Crashes.Take(5)));
        Assert.Equal(10_000, report.Tried);
        // The mutations reach both sides: some payloads still decode, and many kinds of damage are found.
        Assert.InRange(report.Decoded, 1, report.Tried - 1);
        Assert.True(report.RefusedByKind.Count >= 10, string.Join(Environment.NewLine, report.RefusedByKind.Keys));
    }

    private static FluxAppDescriptor Descriptor(string id) =>
        new(id, "Test.App", typeof(PayloadTests), cpus: 1, gpus: 0, mpiRanks: 1, nodes: 0, exclusive: false, timeLimit: null, queue: null, urgency: 16, name: null);
}
