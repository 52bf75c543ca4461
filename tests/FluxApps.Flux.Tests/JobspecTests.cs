using System.Text.Json;
using System.Text.Json.Nodes;
using FluxApps;
using FluxApps.Backends.Flux;
using FluxApps.Runtime;
using Json.Schema;
using FluxApps.Tests.Shared;

namespace FluxApps.Flux.Tests;

/// <summary>
/// Jobspecs for every option a call can carry, each validated against RFC 25's JSON schema
/// (no Flux needed).
/// </summary>
public sealed class JobspecTests
{
    private static readonly string[] s_command = ["/usr/bin/dotnet", "exec", "--runtimeconfig", "/a/b.runtimeconfig.json", "/a/FluxApps.dll", "/w/c1"];

    private static readonly FluxAppDescriptor s_app = new("Tests.App(System.Int32)", "Tests.App", typeof(JobspecTests),
        cpus: 1, gpus: 0, mpiRanks: 1, nodes: 0, exclusive: false, timeLimit: null, queue: null, urgency: 16, name: null);

    private static JobResources Resources(FluxCallOptions? options = null) => JobResources.Resolve(s_app, options);

    private static JsonElement Build(JobResources r, IReadOnlyDictionary<string, string?>? shell = null, IReadOnlyDictionary<string, string>? env = null,
        string? stdout = "/w/c1/stdout", string? stderr = "/w/c1/stderr")
    {
        string json = Jobspec.Build(new JobspecInput(r, s_command, env ?? new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, "/home/u")
        {
            StdoutPath = stdout,
            StderrPath = stderr,
            ShellOptions = ShellOptions.ForJob(r.MpiRanks, null, shell),
        });
        RfcSchema.AssertValid(json, nodeExclusiveErratum: r.Exclusive);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    [Fact]
    public void DefaultsGiveOneTaskOnOneCoreWithNoTimeLimit()
    {
        var js = Build(Resources());
        Assert.Equal(1, js.GetProperty("version").GetInt32());
        var slot = Assert.Single(js.GetProperty("resources").EnumerateArray());
        Assert.Equal("slot", slot.GetProperty("type").GetString());
        Assert.Equal(1, slot.GetProperty("count").GetInt32());
        Assert.Equal("task", slot.GetProperty("label").GetString());
        var core = Assert.Single(slot.GetProperty("with").EnumerateArray());
        Assert.Equal("core", core.GetProperty("type").GetString());
        Assert.Equal(1, core.GetProperty("count").GetInt32());
        var task = Assert.Single(js.GetProperty("tasks").EnumerateArray());
        Assert.Equal(s_command, task.GetProperty("command").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("task", task.GetProperty("slot").GetString());
        Assert.Equal(1, task.GetProperty("count").GetProperty("per_slot").GetInt32());
        var system = js.GetProperty("attributes").GetProperty("system");
        Assert.Equal(0, system.GetProperty("duration").GetDouble());
        Assert.Equal("/home/u", system.GetProperty("cwd").GetString());
        Assert.Equal("Tests.App", system.GetProperty("job").GetProperty("name").GetString());
        Assert.False(system.TryGetProperty("queue", out _));
        Assert.Equal("/usr/bin:/bin", system.GetProperty("environment").GetProperty("PATH").GetString());
    }

    [Fact]
    public void RanksCoresAndGpusBecomeSlots()
    {
        var js = Build(Resources(new FluxCallOptions { MpiRanks = 8, Cpus = 4, Gpus = 2 }));
        var slot = js.GetProperty("resources")[0];
        Assert.Equal(8, slot.GetProperty("count").GetInt32());
        var with = slot.GetProperty("with").EnumerateArray().ToArray();
        Assert.Equal(("core", 4), (with[0].GetProperty("type").GetString(), with[0].GetProperty("count").GetInt32()));
        Assert.Equal(("gpu", 2), (with[1].GetProperty("type").GetString(), with[1].GetProperty("count").GetInt32()));
        Assert.Equal(1, js.GetProperty("tasks")[0].GetProperty("count").GetProperty("per_slot").GetInt32());
    }

    [Fact]
    public void NodesSpreadSlotsEvenly()
    {
        var js = Build(Resources(new FluxCallOptions { MpiRanks = 8, Nodes = 2, Cpus = 2 }));
        var node = js.GetProperty("resources")[0];
        Assert.Equal("node", node.GetProperty("type").GetString());
        Assert.Equal(2, node.GetProperty("count").GetInt32());
        Assert.False(node.TryGetProperty("exclusive", out _));
        var slot = node.GetProperty("with")[0];
        Assert.Equal(4, slot.GetProperty("count").GetInt32());
        Assert.Equal(1, js.GetProperty("tasks")[0].GetProperty("count").GetProperty("per_slot").GetInt32());
    }

    [Fact]
    public void UnevenRanksOverNodesUseATotalTaskCount()
    {
        var js = Build(Resources(new FluxCallOptions { MpiRanks = 3, Nodes = 2 }));
        Assert.Equal(2, js.GetProperty("resources")[0].GetProperty("with")[0].GetProperty("count").GetInt32()); // ceil(3/2) per node
        Assert.Equal(3, js.GetProperty("tasks")[0].GetProperty("count").GetProperty("total").GetInt32());
    }

    [Fact]
    public void ExclusiveMarksTheNodeVertex()
    {
        var js = Build(Resources(new FluxCallOptions { MpiRanks = 2, Nodes = 1, Exclusive = true }));
        Assert.True(js.GetProperty("resources")[0].GetProperty("exclusive").GetBoolean());
    }

    [Fact]
    public void TheOfficialSchemaFileRejectsNodeExclusiveWhichIsWhyTheTestsPatchIt()
    {
        // Documents the erratum: the unpatched schema refuses what RFC 25's text allows.
        string json = Jobspec.Build(new JobspecInput(Resources(new FluxCallOptions { Nodes = 1, Exclusive = true }), s_command,
            new Dictionary<string, string>(), "/"));
        Assert.False(RfcSchema.IsValidUnchanged(json));
        RfcSchema.AssertValid(json, nodeExclusiveErratum: true);
    }

    [Theory]
    [InlineData("90s", 90.0)]
    [InlineData("10m", 600.0)]
    [InlineData("2h", 7200.0)]
    [InlineData("1.5d", 129600.0)]
    [InlineData("500ms", 0.5)]
    [InlineData("0", 0.0)]
    public void TimeLimitBecomesDurationInSeconds(string limit, double seconds)
    {
        var js = Build(Resources(new FluxCallOptions { TimeLimit = limit }));
        Assert.Equal(seconds, js.GetProperty("attributes").GetProperty("system").GetProperty("duration").GetDouble(), 6);
    }

    [Fact]
    public void QueueAndNameAreSystemAttributes()
    {
        var js = Build(Resources(new FluxCallOptions { Queue = "debug", Name = "my job ✓" }));
        var system = js.GetProperty("attributes").GetProperty("system");
        Assert.Equal("debug", system.GetProperty("queue").GetString());
        Assert.Equal("my job ✓", system.GetProperty("job").GetProperty("name").GetString());
    }

    [Fact]
    public void UrgencyIsNotInTheJobspec()
    {
        var js = Build(Resources(new FluxCallOptions { Urgency = 31 }));
        Assert.DoesNotContain("urgency", js.GetRawText());
    }

    [Fact]
    public void StdoutAndStderrGoToTheJobsFiles()
    {
        var output = Build(Resources()).GetProperty("attributes").GetProperty("system").GetProperty("shell").GetProperty("options").GetProperty("output");
        Assert.Equal("file", output.GetProperty("stdout").GetProperty("type").GetString());
        Assert.Equal("/w/c1/stdout", output.GetProperty("stdout").GetProperty("path").GetString());
        Assert.Equal("file", output.GetProperty("stderr").GetProperty("type").GetString());
        Assert.Equal("/w/c1/stderr", output.GetProperty("stderr").GetProperty("path").GetString());
    }

    [Fact]
    public void WithoutFilesOrOptionsThereIsNoShellSection()
    {
        string json = Jobspec.Build(new JobspecInput(Resources(), s_command, new Dictionary<string, string>(), "/"));
        RfcSchema.AssertValid(json);
        Assert.DoesNotContain("\"shell\"", json);
    }

    [Fact]
    public void ShellOptionsPassThroughAsTheCliWritesThem()
    {
        var options = Build(Resources(new FluxCallOptions { MpiRanks = 4 }), new Dictionary<string, string?>
        {
            ["cpu-affinity"] = "per-task",
            ["gpu-affinity"] = "off",
            ["taskmap"] = "cyclic",
            ["mpi"] = "spectrum",
            ["pmi"] = "simple,pmix",
            ["exit-timeout"] = "none",
            ["output.limit"] = "1M",
            ["verbose"] = "2",
            ["nosetpgrp"] = "true",
            ["rlimit"] = "{\"nofile\": 12000}",
        }).GetProperty("attributes").GetProperty("system").GetProperty("shell").GetProperty("options");
        Assert.Equal("per-task", options.GetProperty("cpu-affinity").GetString());
        Assert.Equal("off", options.GetProperty("gpu-affinity").GetString());
        Assert.Equal("cyclic", options.GetProperty("taskmap").GetProperty("scheme").GetString());
        Assert.Equal("", options.GetProperty("taskmap").GetProperty("value").GetString());
        Assert.Equal("spectrum", options.GetProperty("mpi").GetString());
        Assert.Equal("simple,pmix", options.GetProperty("pmi").GetString());
        Assert.Equal("none", options.GetProperty("exit-timeout").GetString());
        Assert.Equal("1M", options.GetProperty("output").GetProperty("limit").GetString());
        Assert.Equal("/w/c1/stdout", options.GetProperty("output").GetProperty("stdout").GetProperty("path").GetString()); // merged, not replaced
        Assert.Equal(2, options.GetProperty("verbose").GetInt32());
        Assert.True(options.GetProperty("nosetpgrp").GetBoolean());
        Assert.Equal(12000, options.GetProperty("rlimit").GetProperty("nofile").GetInt32());
        Assert.Equal(1, options.GetProperty("exit-on-error").GetInt32()); // FluxApps's default stays
    }

    [Fact]
    public void TaskmapTakesSchemeAndValue()
    {
        var taskmap = Build(Resources(), new Dictionary<string, string?> { ["taskmap"] = "manual:[[0,2,2,1]]" })
            .GetProperty("attributes").GetProperty("system").GetProperty("shell").GetProperty("options").GetProperty("taskmap");
        Assert.Equal("manual", taskmap.GetProperty("scheme").GetString());
        Assert.Equal("[[0,2,2,1]]", taskmap.GetProperty("value").GetString());
    }

    [Fact]
    public void ExitOnErrorIsTheDefaultForJobsOfSeveralTasksOnly()
    {
        Assert.Equal("1", Assert.Single(ShellOptions.ForJob(2, null, null).Entries, e => e.Key == "exit-on-error").Value);
        Assert.True(ShellOptions.ForJob(1, null, null).IsEmpty);
        // The runtime's options and the call's come after the default, and can remove it.
        Assert.True(ShellOptions.ForJob(2, new Dictionary<string, string?> { ["exit-on-error"] = null }, null).IsEmpty);
        var merged = ShellOptions.ForJob(2, new Dictionary<string, string?> { ["cpu-affinity"] = "per-task" }, new Dictionary<string, string?> { ["cpu-affinity"] = "off" });
        Assert.Equal("off", merged.Entries.Single(e => e.Key == "cpu-affinity").Value);
    }

    [Fact]
    public void ANullShellOptionRemovesTheDefault()
    {
        var options = Build(Resources(new FluxCallOptions { MpiRanks = 2 }), new Dictionary<string, string?> { ["exit-on-error"] = null, ["exit-timeout"] = "30s" })
            .GetProperty("attributes").GetProperty("system").GetProperty("shell").GetProperty("options");
        Assert.False(options.TryGetProperty("exit-on-error", out _));
        Assert.Equal("30s", options.GetProperty("exit-timeout").GetString());
    }

    [Fact]
    public void LaterShellOptionLayersWinAndDottedNamesNest()
    {
        var merged = ShellOptions.Merge(
            new Dictionary<string, string?> { ["cpu-affinity"] = "on", ["output.limit"] = "1M", ["a.b"] = "1" },
            new Dictionary<string, string?> { ["cpu-affinity"] = "per-task", ["output"] = "{\"limit\":\"2M\"}", ["a.c"] = "2" });
        Assert.Equal(
            new KeyValuePair<string, string>[] { new("cpu-affinity", "per-task"), new("output", "{\"limit\":\"2M\"}"), new("a.b", "1"), new("a.c", "2") },
            merged.Entries.OrderBy(e => e.Key == "cpu-affinity" ? 0 : e.Key == "output" ? 1 : 2).ThenBy(e => e.Key).ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a. b")]
    public void MalformedShellOptionNamesAreRefused(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => ShellOptions.Merge(new Dictionary<string, string?> { [name] = "1" }));
        Assert.Contains("Shell option name", ex.Message);
    }

    [Theory]
    [InlineData("per-task", "\"per-task\"")]
    [InlineData("none", "\"none\"")]
    [InlineData("30s", "\"30s\"")]
    [InlineData("1", "1")]
    [InlineData("2.5", "2.5")]
    [InlineData("true", "true")]
    [InlineData("\"1\"", "\"1\"")]
    [InlineData("[1,2]", "[1,2]")]
    [InlineData("null", "\"null\"")]
    [InlineData("a \"quoted\" word", "\"a \\\"quoted\\\" word\"")]
    public void ShellOptionValuesAreJsonWhenTheyAreJson(string text, string json) =>
        Assert.Equal(json, ShellOptions.ValueJson("x", text));

    [Fact]
    public void EnvironmentIsTheCallersPlusOverridesPlusTheJobDirectory()
    {
        var caller = new System.Collections.Hashtable { ["PATH"] = "/bin", ["HOME"] = "/root", ["DROP_ME"] = "x" };
        var env = Jobspec.ComposeEnvironment(caller, new Dictionary<string, string?> { ["DROP_ME"] = null, ["EXTRA"] = "1", ["HOME"] = "/h" }, "/w/c7");
        Assert.Equal(["EXTRA", "FLUXAPPS_JOB_DIR", "HOME", "PATH"], env.Keys);
        Assert.Equal("/h", env["HOME"]);
        Assert.Equal("/w/c7", env["FLUXAPPS_JOB_DIR"]);
        var js = Build(Resources(), env: env);
        Assert.Equal("1", js.GetProperty("attributes").GetProperty("system").GetProperty("environment").GetProperty("EXTRA").GetString());
    }

    [Fact]
    public void TheRealProcessEnvironmentMakesAValidJobspec()
    {
        var env = Jobspec.ComposeEnvironment(Environment.GetEnvironmentVariables(), null, "/w/c1");
        Assert.Contains("PATH", env.Keys);
        Build(Resources(), env: env);
    }

    [Theory]
    [InlineData("")]
    [InlineData("A=B")]
    public void BadEnvironmentNamesAreRefused(string name)
    {
        Assert.Throws<ArgumentException>(() => Jobspec.ComposeEnvironment(new System.Collections.Hashtable(), new Dictionary<string, string?> { [name] = "1" }, "/w"));
    }

    /// <summary>Every combination of the resource options the rules allow builds a valid jobspec.</summary>
    [Fact]
    public void EveryValidCombinationOfResourceOptionsValidates()
    {
        int built = 0;
        foreach (int ranks in new[] { 1, 2, 3, 8 })
        foreach (int cpus in new[] { 1, 4 })
        foreach (int gpus in new[] { 0, 1, 2 })
        foreach (int nodes in new[] { 0, 1, 2, 3 })
        foreach (bool exclusive in new[] { false, true })
        foreach (string? limit in new[] { null, "30s", "1.5h" })
        foreach (string? queue in new[] { null, "batch" })
        {
            if (nodes > ranks || (exclusive && nodes == 0)) continue;
            var r = Resources(new FluxCallOptions { MpiRanks = ranks, Cpus = cpus, Gpus = gpus, Nodes = nodes, Exclusive = exclusive, TimeLimit = limit, Queue = queue, Urgency = 0 });
            var js = Build(r, new Dictionary<string, string?> { ["cpu-affinity"] = "per-task" });
            // The slots hold exactly the tasks asked for.
            var top = js.GetProperty("resources")[0];
            int slots = nodes > 0 ? top.GetProperty("count").GetInt32() * top.GetProperty("with")[0].GetProperty("count").GetInt32() : top.GetProperty("count").GetInt32();
            var count = js.GetProperty("tasks")[0].GetProperty("count");
            int tasks = count.TryGetProperty("total", out var total) ? total.GetInt32() : slots;
            Assert.Equal(ranks, tasks);
            Assert.True(slots >= ranks);
            built++;
        }
        Assert.True(built > 300, $"only {built} combinations");
    }

    [Fact]
    public void TheValidatorRejectsABrokenJobspec()
    {
        Assert.False(RfcSchema.IsValidUnchanged("{\"version\":1,\"resources\":[{\"type\":\"slot\",\"count\":0,\"label\":\"task\",\"with\":[{\"type\":\"core\",\"count\":1}]}],\"tasks\":[],\"attributes\":{}}"));
    }
}

/// <summary>The "none" envelope the backend pre-signs the owner's jobs with, byte for byte as libflux-core writes it.</summary>
public sealed class SignedJobspecTests
{
    [Fact]
    public void WrapsLikeLibfluxSignNoneWrap()
    {
        string j = SignedJobspec.WrapUnsigned("{\"version\":1}", 1000);
        string[] parts = j.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal("none", parts[2]);
        // sign_none.c's header_encode: "version:i1:userid:i%lu:mechanism:snone:" with ':' turned into NUL.
        Assert.Equal("version\0i1\0userid\0i1000\0mechanism\0snone\0", System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(parts[0])));
        Assert.Equal("{\"version\":1}", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])));
        Assert.Equal("dmVyc2lvbgBpMQB1c2VyaWQAaTAAbWVjaGFuaXNtAHNub25lAA==", SignedJobspec.WrapUnsigned("", 0).Split('.')[0]);
    }
}
