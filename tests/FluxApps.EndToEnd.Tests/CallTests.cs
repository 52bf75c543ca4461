using FluxApps;
using FluxApps.TestApps;

namespace FluxApps.EndToEnd.Tests;

/// <summary>Calls generated stubs for real: each call runs in a worker process and comes back.</summary>
public sealed class CallTests(LocalRuntimeFixture fixture) : CallTestsBase<LocalRuntimeFixture>(fixture);

/// <summary>The same tests with ranks started through System.Diagnostics.Process (systems without pidfds).</summary>
public sealed class CallTestsWithProcessSpawn(ProcessSpawnRuntimeFixture fixture) : CallTestsBase<ProcessSpawnRuntimeFixture>(fixture);

/// <summary>The same tests with every call in a pool of long-lived workers.</summary>
public sealed class PooledCallTests(PooledRuntimeFixture fixture) : CallTestsBase<PooledRuntimeFixture>(fixture);

public abstract class CallTestsBase<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : LocalRuntimeFixture
{
    private FluxCallOptions Options => fixture.Options;

    [Fact]
    public async Task PrimitiveArgumentsAndResultRoundTrip()
    {
        var future = Library.AddAsync(40, 2, Options);
        Assert.Equal(42, await future);
        Assert.NotNull(future.JobId);
        Assert.Equal(FluxJobState.Inactive, future.State);
        Assert.StartsWith("ƒ", future.JobId!.Value.ToString());
        Assert.Contains(future.Events, e => e.Name == "start");
        Assert.Contains(future.Events, e => e.Name == "finish");
    }

    [Fact]
    public async Task RecordWithCollectionsNullablesAndRecursionRoundTrips()
    {
        var previous = new Measurement("before", [1.5], Phase.Solid, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc), Guid.NewGuid(), TimeSpan.FromMinutes(3), null);
        var m = new Measurement("temp", [1.0, double.NaN, -0.0, double.MaxValue], Phase.Gas, DateTime.Now, Guid.NewGuid(), TimeSpan.FromTicks(123456789), 7)
        {
            Tags = ["a", "", "ünïcødé ✓"],
            Metadata = new() { ["x"] = 1.25, ["y"] = -3 },
            Previous = previous,
        };
        var echoed = await Library.EchoAsync(m, Options);
        Assert.Equal(m.Name, echoed.Name);
        Assert.Equal(m.Values, echoed.Values);
        Assert.Equal(m.Phase, echoed.Phase);
        Assert.Equal(m.Taken, echoed.Taken);
        Assert.Equal(m.Taken.Kind, echoed.Taken.Kind);
        Assert.Equal(m.Id, echoed.Id);
        Assert.Equal(m.Duration, echoed.Duration);
        Assert.Equal(7, echoed.Quality);
        Assert.Equal(m.Tags, echoed.Tags);
        Assert.Equal(m.Metadata, echoed.Metadata);
        Assert.NotNull(echoed.Previous);
        Assert.Null(echoed.Previous!.Quality);
        Assert.Equal(previous.Taken, echoed.Previous.Taken);
        Assert.Null(echoed.Previous.Previous);
    }

    [Fact]
    public async Task ClassWithFieldsJaggedArraysAndNestedDictionariesRoundTrips()
    {
        var grid = new Grid
        {
            Width = 3,
            Height = 2,
            Cells = [[1, 2, 3], [], [4]],
            Index = new() { [5] = [new Measurement("m", [], Phase.Liquid, DateTime.MinValue, Guid.Empty, TimeSpan.Zero, 1)] },
            Price = 12.345m,
            Stamp = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(-5)),
            Marker = 'λ',
            Flags = TestApps.Options.Fast | TestApps.Options.Precise,
        };
        var echoed = await Library.EchoGridAsync(grid, Options);
        Assert.Equal(6, echoed.Area);
        Assert.Equal(grid.Cells, echoed.Cells);
        Assert.Equal("m", Assert.Single(echoed.Index![5]).Name);
        Assert.Equal(12.345m, echoed.Price);
        Assert.Equal(grid.Stamp, echoed.Stamp);
        Assert.Equal(grid.Stamp.Offset, echoed.Stamp.Offset);
        Assert.Equal('λ', echoed.Marker);
        Assert.Equal(grid.Flags, echoed.Flags);
    }

    [Fact]
    public async Task ConstructorAndInitOnlyMembersRoundTrip()
    {
        var p = new Particle(9, new Point(1.5, -2))
        {
            Trail = [new Point(0, 0), new Point(1, 1)],
            Labels = ["x", "y"],
            Seed = ulong.MaxValue,
            Mass = 0.25f,
            Charge = -1,
            Spin = (Half)0.5,
            Day = new DateOnly(2026, 11, 25),
            Time = new TimeOnly(13, 14, 15),
        };
        var echoed = await Library.EchoParticleAsync(p, Options);
        Assert.Equal(9, echoed.Id);
        Assert.Equal(p.Position, echoed.Position);
        Assert.Equal(p.Trail, echoed.Trail);
        Assert.Equal(p.Labels, echoed.Labels);
        Assert.Equal(ulong.MaxValue, echoed.Seed);
        Assert.Equal(0.25f, echoed.Mass);
        Assert.Equal(-1, echoed.Charge);
        Assert.Equal((Half)0.5, echoed.Spin);
        Assert.Equal(p.Day, echoed.Day);
        Assert.Equal(p.Time, echoed.Time);
    }

    [Fact]
    public async Task TuplesNullablesListsDictionariesAndBytes()
    {
        var tuple = await Library.EchoTupleAsync(3, null, new Point(1, 2), Options);
        Assert.Equal((3, (string?)null, new Point(1, 2)), tuple);

        Assert.Equal("a:5:Gas", await Library.NullableTextAsync("a", 5, Phase.Gas, Options));
        Assert.Equal("a:none:none", await Library.NullableTextAsync("a", null, null, Options));
        Assert.Null(await Library.NullableTextAsync(null, 1, Phase.Solid, Options));

        var groups = await Library.GroupAsync([1, 2, 3, 4, 6], ["ab", "abc"], Options);
        Assert.Equal([2, 4, 6], groups["ab"]);
        Assert.Equal([3, 6], groups["abc"]);

        Assert.Equal(new byte[] { 3, 2, 1 }, await Library.ReverseAsync([1, 2, 3], Options));
        var stats = await Library.SummarizeAsync([2, 4, 9], Options);
        Assert.Equal(new Stats(3, 5, 2, 9), stats);
    }

    [Fact]
    public async Task VoidTaskTaskOfTAndValueTaskOfTApps()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string a = Path.Combine(dir, "void.txt"), b = Path.Combine(dir, "task.txt");
            FluxFuture f1 = Library.WriteMarkerAsync(a, "void ran", Options);
            await f1;
            await Library.WriteMarkerLaterAsyncAsync(b, "task ran", Options);
            Assert.Equal("void ran", File.ReadAllText(a));
            Assert.Equal("task ran", File.ReadAllText(b));
            Assert.Equal(6L, await Library.SumLaterAsync([1, 2, 3], Options));
            Assert.Equal("HELLO", await Library.ShoutAsync(options: Options));
            Assert.Equal("ABC", await Library.ShoutAsync("abc", Options));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task NestedPartialTypesAndInternalApps()
    {
        Assert.Equal("Outer.Middle.Inner:x", await Outer.Middle.Inner.WhereAsync("x", Options));
    }

    [Fact]
    public async Task AsTaskAndConfigureAwaitGiveTheSameResult()
    {
        Task<int> t = Library.AddAsync(1, 2, Options).AsTask();
        Assert.Equal(3, await t);
        Assert.Equal(5, await Library.AddAsync(2, 3, Options).ConfigureAwait(false));
    }

    [Fact]
    public async Task JobEventsAreReplayedToLateSubscribersInOrder()
    {
        var future = Library.AddAsync(1, 1, Options);
        await future;
        var seen = new List<string>();
        future.JobEvent += (_, e) => seen.Add(e.Name);
        // A pooled call has no job of its own: it is queued, runs on a worker, ends.
        Assert.Equal(Options.Pool is null ? ["submit", "alloc", "start", "finish", "release", "clean"] : ["submit", "start", "finish"], seen);
    }

    [Fact]
    public async Task EnvironmentOverridesAndWorkingDirectoryReachTheJob()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            var options = new FluxCallOptions
            {
                Runtime = fixture.Runtime,
                MpiRanks = 1,
                Environment = new Dictionary<string, string?> { ["FLUXAPPS_TEST_VALUE"] = "hello from the caller" },
            };
            var info = await Library.WhoAmIAsync("FLUXAPPS_TEST_VALUE", options);
            Assert.Equal("hello from the caller", info.Variable);
            Assert.Equal(1, info.Size);
            string cwd = await Library.CurrentDirectoryAsync(new FluxCallOptions { Runtime = fixture.Runtime, WorkingDirectory = dir });
            Assert.Equal(Path.GetFullPath(dir).TrimEnd('/'), cwd.TrimEnd('/'));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task CallFilesAreRemovedAfterCompletionUnlessKept()
    {
        // Tests of one class run one at a time, so every earlier call of this runtime is complete.
        // Call directories only: a pool's live workers keep theirs (their output) while they run.
        string[] CallDirectories() => Directory.GetDirectories(fixture.Runtime.WorkingDirectory).Where(d => !Path.GetFileName(d).StartsWith("pool-", StringComparison.Ordinal)).ToArray();
        await Library.AddAsync(1, 2, Options);
        Assert.Empty(CallDirectories());

        await Library.AddAsync(3, 4, new FluxCallOptions { Runtime = fixture.Runtime, KeepFiles = true });
        string kept = Assert.Single(CallDirectories());
        Assert.True(File.Exists(Path.Combine(kept, "args.bin")));
        Assert.True(File.Exists(Path.Combine(kept, "result.bin")));
        Directory.Delete(kept, true);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void WorkingDirectoryIsPrivateToTheUser()
    {
        var mode = File.GetUnixFileMode(fixture.Runtime.WorkingDirectory);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, mode);
    }
}
