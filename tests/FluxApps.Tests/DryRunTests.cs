using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluxApps.Backends.Flux;
using FluxApps.Runtime;
using FluxApps.TestApps;
using Json.Schema;
using FluxApps.Tests.Shared;

namespace FluxApps.Tests;

/// <summary>
/// <see cref="FluxDryRun"/>: calls described, never submitted. No test in this assembly starts a runtime, so the
/// default runtime stays absent unless a dry run lets a call through.
/// </summary>
public sealed class DryRunTests
{
    private static readonly string s_placeholder = FluxDryRun.RunDirectoryPlaceholder;

    [Fact]
    public void DescribeGivesTheAttributesResourcesAndAJobspecThatValidates()
    {
        var d = FluxDryRun.Describe(() => DryRunApps.SimulateAsync(1000, 0.01));

        Assert.Equal("DryRunApps.Simulate", d.AppName);
        Assert.Equal("simulate", d.JobName);
        Assert.Equal((4, 1, 8, 2, false, "10m", "batch", 20), (d.Cpus, d.Gpus, d.MpiRanks, d.Nodes, d.Exclusive, d.TimeLimit, d.Queue, d.Urgency));
        Assert.Null(d.Pool);
        Assert.False(d.IsCommand);

        var js = Jobspec(d);
        RfcSchema.AssertValid(d.ToJson());
        var node = Assert.Single(js.GetProperty("resources").EnumerateArray());
        Assert.Equal(("node", 2), (node.GetProperty("type").GetString(), node.GetProperty("count").GetInt32()));
        var slot = Assert.Single(node.GetProperty("with").EnumerateArray());
        Assert.Equal(4, slot.GetProperty("count").GetInt32()); // 8 ranks over 2 nodes
        var with = slot.GetProperty("with").EnumerateArray().Select(v => (v.GetProperty("type").GetString(), v.GetProperty("count").GetInt32())).ToArray();
        Assert.Equal([("core", 4), ("gpu", 1)], with);
        var system = js.GetProperty("attributes").GetProperty("system");
        Assert.Equal(600, system.GetProperty("duration").GetDouble());
        Assert.Equal("batch", system.GetProperty("queue").GetString());
        Assert.Equal("simulate", system.GetProperty("job").GetProperty("name").GetString());
        Assert.Equal(Environment.CurrentDirectory, system.GetProperty("cwd").GetString());
        // Several ranks: FluxApps's default shell option ends the job when one fails.
        Assert.Equal(1, system.GetProperty("shell").GetProperty("options").GetProperty("exit-on-error").GetInt32());
        Assert.Equal(Path.Combine(s_placeholder, "c1", "stdout"),
            system.GetProperty("shell").GetProperty("options").GetProperty("output").GetProperty("stdout").GetProperty("path").GetString());

        // The tasks run the worker on the call's directory, which is visibly a placeholder.
        Assert.Equal(Path.Combine(s_placeholder, "c1"), d.JobDirectory);
        Assert.Equal(d.JobDirectory, d.CommandLine[^1]);
        Assert.EndsWith("FluxApps.dll", d.CommandLine[^2]);
        Assert.Equal(d.CommandLine, js.GetProperty("tasks")[0].GetProperty("command").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(d.JobDirectory, d.Environment[WorkerCommand.JobDirectoryVariable]);
        Assert.Contains("\"<run-directory>/c1\"", d.ToJson()); // not \u003C-escaped
        Assert.Contains("8 ranks x 4 cores + 1 GPU on 2 nodes, time limit 10m, queue batch, urgency 20", d.ToString());
    }

    [Fact]
    public void TheJobspecIsWhatTheFluxBackendBuildsForTheSameCall()
    {
        var runtimeOptions = new FluxAppsOptions { FluxShellOptions = new Dictionary<string, string?> { ["cpu-affinity"] = "per-task" } };
        string cwd = Path.GetTempPath();
        var call = new FluxCallOptions
        {
            Cpus = 2, MpiRanks = 3, Nodes = 2, TimeLimit = "90s", Name = "same",
            Environment = new Dictionary<string, string?> { ["OMP_NUM_THREADS"] = "2", ["HOME"] = null },
            ShellOptions = new Dictionary<string, string?> { ["output.limit"] = "1M" },
            WorkingDirectory = cwd,
        };
        var d = FluxDryRun.Describe(() => DryRunApps.SimulateAsync(1, 1, call), new FluxDryRunOptions { RuntimeOptions = runtimeOptions });

        // What the runtime hands the Flux backend for this call (CallSubmitter.SubmitAttempt), built by the backend.
        string jobDirectory = Path.Combine("/runs/r1", "c1");
        var future = new FluxFuture<double>(s_simulateApp, _ => 0);
        var request = new JobRequest(future, JobResources.Resolve(s_simulateApp, call), jobDirectory, call.Environment, cwd)
        {
            ShellOptions = call.ShellOptions,
        };
        string scratch = Directory.CreateTempSubdirectory("dryrun-").FullName;
        try
        {
            string expected = FluxJobBackend.BuildJobspec(request, WorkerCommand.Resolve(scratch), runtimeOptions.FluxShellOptions,
                Environment.GetEnvironmentVariables());
            string actual = d.ToJson(indented: false).Replace(Path.Combine(s_placeholder, "c1"), jobDirectory, StringComparison.Ordinal);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected\n{expected}\nactual\n{actual}");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public void PerCallOverridesShowUpInTheDescriptionAndTheJobspec()
    {
        var d = FluxDryRun.Describe(() => Library.AddAsync(1, 2, new FluxCallOptions
        {
            Cpus = 3, Gpus = 2, MpiRanks = 4, Nodes = 2, Exclusive = true, TimeLimit = "2h", Queue = "gpu", Name = "adder", Urgency = 0,
            Retries = 1,
            Environment = new Dictionary<string, string?> { ["OMP_NUM_THREADS"] = "3", ["PATH"] = null },
            ShellOptions = new Dictionary<string, string?> { ["gpu-affinity"] = "per-task", ["exit-on-error"] = null },
            WorkingDirectory = "/scratch/run42",
        }), new FluxDryRunOptions { RuntimeOptions = new FluxAppsOptions { FluxShellOptions = new Dictionary<string, string?> { ["mpi"] = "pmix" } } });

        Assert.Equal((3, 2, 4, 2, true, "2h", "gpu", "adder", 0, 1), (d.Cpus, d.Gpus, d.MpiRanks, d.Nodes, d.Exclusive, d.TimeLimit, d.Queue, d.JobName, d.Urgency, d.Retries));
        RfcSchema.AssertValid(d.ToJson(), nodeExclusiveErratum: true);
        var js = Jobspec(d);
        var node = js.GetProperty("resources")[0];
        Assert.True(node.GetProperty("exclusive").GetBoolean());
        Assert.Equal(2, node.GetProperty("with")[0].GetProperty("count").GetInt32());
        var system = js.GetProperty("attributes").GetProperty("system");
        Assert.Equal(7200, system.GetProperty("duration").GetDouble());
        Assert.Equal("gpu", system.GetProperty("queue").GetString());
        Assert.Equal("adder", system.GetProperty("job").GetProperty("name").GetString());
        Assert.Equal("/scratch/run42", system.GetProperty("cwd").GetString());
        Assert.Equal("/scratch/run42", d.WorkingDirectory);
        Assert.Equal("3", d.Environment["OMP_NUM_THREADS"]);
        Assert.False(d.Environment.ContainsKey("PATH")); // removed by the call, though this process has it
        var shell = system.GetProperty("shell").GetProperty("options");
        Assert.Equal("per-task", shell.GetProperty("gpu-affinity").GetString());
        Assert.Equal("pmix", shell.GetProperty("mpi").GetString()); // the runtime's, under the call's
        Assert.False(shell.TryGetProperty("exit-on-error", out _)); // removed by the call
        Assert.Contains("urgency 0", d.ToString());
    }

    public static TheoryData<string, FluxCallOptions, string> BadOverrides => new()
    {
        { "Cpus", new FluxCallOptions { Cpus = 0 }, "Cpus = 0" },
        { "TimeLimit", new FluxCallOptions { TimeLimit = "soon" }, "soon" },
        { "Nodes", new FluxCallOptions { Nodes = 3 }, "Nodes = 3" },
        { "Urgency", new FluxCallOptions { Urgency = 32 }, "32" },
        { "Environment", new FluxCallOptions { Environment = new Dictionary<string, string?> { ["A=B"] = "1" } }, "A=B" },
        // Checked by the runtime before it submits, so by the dry run too.
        { "Retries", new FluxCallOptions { Retries = -1 }, "-1" },
        { "MpiRanks", new FluxCallOptions { Pool = "p", MpiRanks = 2 }, "MpiRanks = 2" },
    };

    [Theory]
    [MemberData(nameof(BadOverrides))]
    public void ABadOverrideThrowsArgumentExceptionNamingTheValue(string option, FluxCallOptions call, string value)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => FluxDryRun.Describe(() => Library.AddAsync(1, 2, call)));
        Assert.Equal(option, ex.ParamName);
        Assert.Contains(value, ex.Message);
        Assert.Null(DefaultRuntime.Peek());
    }

    [Fact]
    public void MalformedShellOptionsThrowArgumentException()
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => FluxDryRun.Describe(() => Library.AddAsync(1, 2,
            new FluxCallOptions { ShellOptions = new Dictionary<string, string?> { ["a..b"] = "1" } })));
        Assert.Contains("a..b", ex.Message);
    }

    [Fact]
    public void NothingIsSubmittedNoRuntimeStartsAndTheFutureIsCancelled()
    {
        FluxFuture<int>? future = null;
        var d = FluxDryRun.Describe(() => future = Library.AddAsync(1, 2));

        Assert.Equal("Library.Add", d.AppName);
        Assert.NotNull(future);
        Assert.True(future.AsTask().IsCanceled);
        Assert.True(future.Submitted.IsCanceled);
        Assert.Null(future.JobId);
        Assert.Null(DefaultRuntime.Peek());
        Assert.Equal(0, future.Attempts);
        // Awaiting it says so, as for any cancelled call.
        Assert.ThrowsAny<OperationCanceledException>(() => future.AsTask().GetAwaiter().GetResult());
        // The dry run is over: it no longer intercepts calls on this flow.
        Assert.Null(DryRunCapture.Current);
    }

    [Fact]
    public void ACommandAppsJobspecRunsItsCommandLine()
    {
        var d = FluxDryRun.Describe(() => CommandApps.GreetAsync("hi"));

        Assert.True(d.IsCommand);
        Assert.Equal(2, d.MpiRanks);
        Assert.Equal(["/bin/sh", "-c", "echo \"rank $FLUX_TASK_RANK of $FLUX_JOB_SIZE: $0 $GREETING\"", "hi"], d.CommandLine);
        RfcSchema.AssertValid(d.ToJson());
        var js = Jobspec(d);
        Assert.Equal(d.CommandLine, js.GetProperty("tasks")[0].GetProperty("command").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("hello", d.Environment["GREETING"]); // the command's own environment
        var output = js.GetProperty("attributes").GetProperty("system").GetProperty("shell").GetProperty("options").GetProperty("output");
        string stdout = output.GetProperty("stdout").GetProperty("path").GetString()!;
        Assert.Equal(Environment.CurrentDirectory, Path.GetDirectoryName(stdout));
        Assert.StartsWith("CommandApps.Greet-", Path.GetFileName(stdout));
        Assert.Matches(@"-1-[0-9a-f]{12}\.out$", stdout); // the call's number, then a part no one can guess
        Assert.StartsWith("command job \"CommandApps.Greet\"", d.ToString()[(d.AppName.Length + 2)..]);
    }

    [Fact]
    public void ACommandAppCannotBeCachedOrPooledEvenInADryRun()
    {
        var cache = Assert.ThrowsAny<ArgumentException>(() => FluxDryRun.Describe(() => CommandApps.GreetAsync("hi", new FluxCallOptions { Cache = true })));
        Assert.Equal("Cache", cache.ParamName);
        var pool = Assert.ThrowsAny<ArgumentException>(() => FluxDryRun.Describe(() => CommandApps.GreetAsync("hi", new FluxCallOptions { Pool = "p", MpiRanks = 1 })));
        Assert.Equal("Pool", pool.ParamName);
    }

    [Fact]
    public void APooledCallDescribesTheJobOfOneOfItsPoolsWorkers()
    {
        var runtimeOptions = new FluxAppsOptions
        {
            Pools = [new FluxPoolOptions { Name = "attribute-pool", CpusPerWorker = 2, GpusPerWorker = 1, TimeLimit = "1h", Queue = "debug" }],
        };
        var d = FluxDryRun.Describe(() => PoolApps.PooledAddAsync(1, 2), new FluxDryRunOptions { RuntimeOptions = runtimeOptions });

        Assert.Equal("attribute-pool", d.Pool);
        Assert.Equal((1, 0, 1), (d.Cpus, d.Gpus, d.MpiRanks)); // the call's share of a worker
        Assert.Contains("a call in a worker of pool \"attribute-pool\" (no job of its own", d.ToString());
        RfcSchema.AssertValid(d.ToJson());
        var js = Jobspec(d);
        var slot = js.GetProperty("resources")[0];
        Assert.Equal(1, slot.GetProperty("count").GetInt32());
        Assert.Equal([("core", 2), ("gpu", 1)],
            slot.GetProperty("with").EnumerateArray().Select(v => (v.GetProperty("type").GetString(), v.GetProperty("count").GetInt32())));
        var system = js.GetProperty("attributes").GetProperty("system");
        Assert.Equal(3600, system.GetProperty("duration").GetDouble());
        Assert.Equal("debug", system.GetProperty("queue").GetString());
        Assert.Equal("fluxapps-pool-attribute-pool", system.GetProperty("job").GetProperty("name").GetString());
        Assert.Equal(WorkerCommand.PoolArgument, d.CommandLine[^1]);
        Assert.Equal(Path.Combine(s_placeholder, "pool-w1"), d.JobDirectory);
        // No secret leaks into a description: what exists only once the pool runs is a placeholder.
        Assert.Equal("<pool-secret>", d.Environment["FLUXAPPS_POOL_SECRET"]);

        // Too big for a worker: refused as a real call is.
        var ex = Assert.ThrowsAny<ArgumentException>(() => FluxDryRun.Describe(() => PoolApps.PooledAddAsync(1, 2, new FluxCallOptions { Cpus = 3 }),
            new FluxDryRunOptions { RuntimeOptions = runtimeOptions }));
        Assert.Equal("Cpus", ex.ParamName);
        Assert.Contains("Cpus = 3", ex.Message);
    }

    [Fact]
    public void PerCallPoolChoiceDecidesBetweenAJobAndAPool()
    {
        var own = FluxDryRun.Describe(() => PoolApps.PooledAddAsync(1, 2, new FluxCallOptions { Pool = "" }));
        Assert.Null(own.Pool);
        Assert.Equal("PoolApps.PooledAdd", own.JobName);
        Assert.Equal(own.JobDirectory, own.CommandLine[^1]);

        var pooled = FluxDryRun.Describe(() => Library.AddAsync(1, 2, new FluxCallOptions { Pool = "adders" }));
        Assert.Equal("adders", pooled.Pool);
        Assert.Equal("fluxapps-pool-adders", Jobspec(pooled).GetProperty("attributes").GetProperty("system").GetProperty("job").GetProperty("name").GetString());
        // An unconfigured pool: the Flux backend's default worker, as many cores as this machine has.
        Assert.Equal(Environment.ProcessorCount, Jobspec(pooled).GetProperty("resources")[0].GetProperty("with")[0].GetProperty("count").GetInt32());
    }

    [Fact]
    public void RetriesAndCachingAreReported()
    {
        var d = FluxDryRun.Describe(() => DryRunApps.SquareAsync(3));
        Assert.Equal((2, true), (d.Retries, d.Cache));
        Assert.EndsWith("2 retries, cached", d.ToString());
        var off = FluxDryRun.Describe(() => DryRunApps.SquareAsync(3, new FluxCallOptions { Retries = 0, Cache = false }));
        Assert.Equal((0, false), (off.Retries, off.Cache));
    }

    [Fact]
    public void ZeroCallsIsAClearError()
    {
        FluxFuture<int>? earlier = null;
        FluxDryRun.Describe(() => earlier = Library.AddAsync(1, 2));

        var ex = Assert.Throws<InvalidOperationException>(() => FluxDryRun.Describe(() => earlier!));
        Assert.Contains("made no app call", ex.Message);
        Assert.Contains("FluxDryRun.Describe(() => Physics.SimulateAsync", ex.Message);
        var all = Assert.Throws<InvalidOperationException>(() => FluxDryRun.DescribeAll(() => { }));
        Assert.Contains("made no app call", all.Message);
        Assert.Throws<ArgumentNullException>(() => FluxDryRun.Describe(null!));
    }

    [Fact]
    public void DescribeAllTakesEveryCallInOrderAndDescribeOnlyOne()
    {
        var calls = FluxDryRun.DescribeAll(() =>
        {
            foreach (int cpus in new[] { 1, 2, 3 }) Library.AddAsync(cpus, 0, new FluxCallOptions { Cpus = cpus });
            CommandApps.SleepAsync(1);
        });
        Assert.Equal([1, 2, 3, 1], calls.Select(c => c.Cpus));
        Assert.Equal(["c1", "c2", "c3", "c4"], calls.Select(c => Path.GetFileName(c.JobDirectory)));
        Assert.Equal(["Library.Add", "Library.Add", "Library.Add", "CommandApps.Sleep"], calls.Select(c => c.AppName));

        var ex = Assert.Throws<InvalidOperationException>(() => FluxDryRun.Describe(() =>
        {
            Library.AddAsync(1, 2);
            return CommandApps.SleepAsync(1);
        }));
        Assert.Contains("made 2 (Library.Add, CommandApps.Sleep): use FluxDryRun.DescribeAll", ex.Message);
        Assert.Null(DefaultRuntime.Peek());
    }

    [Fact]
    public async Task ACallMadeAfterTheDryRunEndedIsRefusedNotSubmitted()
    {
        var release = new TaskCompletionSource();
        Task<FluxFuture<int>>? late = null;
        FluxDryRun.DescribeAll(() =>
        {
            Library.AddAsync(0, 0);
            late = Task.Run(async () =>
            {
                await release.Task;
                return Library.AddAsync(1, 2);
            });
        });
        release.SetResult();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => late!);
        Assert.Contains("after its dry run ended", ex.Message);
        Assert.Null(DefaultRuntime.Peek());
    }

    [Fact]
    public void TheCallersEnvironmentIsIncludedUnlessLeftOut()
    {
        var call = new FluxCallOptions { Environment = new Dictionary<string, string?> { ["DRYRUN_EXTRA"] = "1" } };
        var full = FluxDryRun.Describe(() => Library.AddAsync(1, 2, call));
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string name = (string)e.Key;
            if (name.Length == 0 || name.StartsWith("FLUXAPPS_WORKER_STD", StringComparison.Ordinal) || name == WorkerCommand.JobDirectoryVariable) continue;
            Assert.Equal((string)e.Value!, full.Environment[name]);
        }

        var lean = FluxDryRun.Describe(() => Library.AddAsync(1, 2, call), new FluxDryRunOptions { IncludeCallerEnvironment = false });
        Assert.Equal(["DRYRUN_EXTRA", WorkerCommand.JobDirectoryVariable], lean.Environment.Keys.Order(StringComparer.Ordinal));
        RfcSchema.AssertValid(lean.ToJson());
    }

    [Fact]
    public void IndentedAndCompactJsonAreTheSameJobspec()
    {
        var d = FluxDryRun.Describe(() => DryRunApps.SimulateAsync(1, 1));
        string compact = d.ToJson(indented: false);
        string indented = d.ToJson();
        Assert.DoesNotContain('\n', compact);
        Assert.Contains("\n  \"resources\": [", indented);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(compact), JsonNode.Parse(indented)));
    }

    private static JsonElement Jobspec(FluxJobDescription d) => JsonDocument.Parse(d.ToJson()).RootElement.Clone();

    private static readonly FluxAppDescriptor s_simulateApp = FindDescriptor(() => DryRunApps.SimulateAsync(0, 0));

    /// <summary>The generated descriptor of the app a stub calls (the future carries it).</summary>
    private static FluxAppDescriptor FindDescriptor(Func<FluxFuture> stub)
    {
        FluxFuture? future = null;
        FluxDryRun.Describe(() => future = stub());
        return future!.App;
    }
}
