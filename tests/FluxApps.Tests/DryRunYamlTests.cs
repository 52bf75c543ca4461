using System.Globalization;
using System.Text.Json;
using FluxApps.Runtime;
using FluxApps.TestApps;
using YamlDotNet.Serialization;

namespace FluxApps.Tests;

/// <summary>
/// The YAML of a dry run (<see cref="FluxJobDescription.ToYaml"/>, <see cref="YamlEmitter"/>): read back by a YAML
/// library that types every unquoted scalar (numbers, booleans, nulls), it must be the JSON's data exactly.
/// </summary>
public sealed class DryRunYamlTests
{
    /// <summary>Strings a careless emitter would leave plain and a reader would take for something else, or fail on.</summary>
    private static readonly string[] s_trickyStrings =
    [
        "", " ", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "~", "123", "-1", "+1", "0x1F", "1e5", "1_000", ".5",
        ".inf", "-.inf", ".NaN", "NaN", "Infinity", "12:30", "a: b", "a:", "key:value", "# comment", "a #b", "-o", "- item", "--", "---", "...",
        "? q", "[x]", "{x}", "x, y", "&anchor", "*alias", "!tag", "|", ">", "@at", "`tick", "%TAG", "'single'", "\"double\"", "back\\slash",
        "tab\there", "two\nlines", "cr\rhere", "bell\u0007", "nul\0", "del\u007F", "c1\u0085", "line\u2028sep", "bom\uFEFF",
        "héllo wörld ✓", "emoji 😀", "<run-directory>/c1", "/usr/bin:/bin", "per-task", "trailing ", " leading", "=", "<<",
    ];

    [Fact]
    public void TrickyStringsReadBackAsTheSameStrings()
    {
        var values = new Dictionary<string, object?>();
        for (int i = 0; i < s_trickyStrings.Length; i++) values["v" + i] = s_trickyStrings[i];
        // Keys get the same treatment.
        foreach (string s in s_trickyStrings.Where(s => s.Length > 0)) values[s] = "key";
        AssertRoundTrip(JsonSerializer.Serialize(values));
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("No")]
    [InlineData("on")]
    [InlineData("OFF")]
    [InlineData("y")]
    [InlineData("N")]
    public void Yaml11BooleansAreQuotedForReadersThatStillTakeThemForBooleans(string word)
    {
        // YamlDotNet reads these as strings either way; PyYAML and other YAML 1.1 readers do not.
        Assert.Equal("\"" + word + "\"", YamlEmitter.Scalar(word));
        Assert.Equal("v: \"" + word + "\"\n", YamlEmitter.FromJson("{\"v\":\"" + word + "\"}"));
    }

    [Fact]
    public void NestingEmptyCollectionsNumbersAndLiteralsReadBack()
    {
        const string json = """
            {"a":{"b":{"c":[1,2,{"d":[]}]}},"e":[],"f":{},"g":[[1,[2,3]],[],{"h":null}],"i":[{"j":true,"k":false},{"l":-1.5e-3}],
             "m":0,"n":600.25,"o":[{"p":{"q":[{"r":"s"}]}}],"t":"u"}
            """;
        AssertRoundTrip(json);
        foreach (string root in new[] { "1", "\"text\"", "[]", "{}", "[1,[2,3]]", "[{}]", "[[]]", "null" }) AssertRoundTrip(root);
    }

    [Fact]
    public void AJobspecReadsBackAsItsJson()
    {
        var d = FluxDryRun.Describe(() => DryRunApps.SimulateAsync(1, 1, new FluxCallOptions
        {
            // Every tricky string a process environment can hold (no NUL).
            Environment = s_trickyStrings.Where(s => !s.Contains('\0')).Select((s, i) => ("DRYRUN_V" + i, s)).ToDictionary(p => p.Item1, p => (string?)p.Item2),
            ShellOptions = new Dictionary<string, string?> { ["cpu-affinity"] = "per-task", ["output.limit"] = "1M", ["taskmap"] = "cyclic" },
            Exclusive = true,
        }));
        AssertRoundTrip(d.ToJson(), d.ToYaml());
    }

    [Fact]
    public void TheYamlIsBlockStyleAndReadable()
    {
        const string json = """{"resources":[{"type":"slot","count":1,"with":[{"type":"core","count":4}]}],"tasks":[{"command":["dotnet","exec","<run-directory>/c1"]}],"attributes":{"system":{"duration":0,"environment":{},"shell":{"options":{"exit-on-error":1}}}},"version":1}""";
        string expected = """
            resources:
              - type: slot
                count: 1
                with:
                  - type: core
                    count: 4
            tasks:
              - command:
                  - dotnet
                  - exec
                  - "<run-directory>/c1"
            attributes:
              system:
                duration: 0
                environment: {}
                shell:
                  options:
                    exit-on-error: 1
            version: 1

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), YamlEmitter.FromJson(json));
    }

    [Fact]
    public void ARootScalarOrEmptyRootIsOneLine()
    {
        Assert.Equal("{}\n", YamlEmitter.FromJson("{}"));
        Assert.Equal("[]\n", YamlEmitter.FromJson("[]"));
        Assert.Equal("\"yes\"\n", YamlEmitter.FromJson("\"yes\""));
        Assert.Equal("- - 1\n  - 2\n- 3\n", YamlEmitter.FromJson("[[1,2],3]"));
    }

    private static void AssertRoundTrip(string json, string? yaml = null)
    {
        yaml ??= YamlEmitter.FromJson(json);
        using var doc = JsonDocument.Parse(json);
        object? read;
        try
        {
            read = Read(yaml);
        }
        catch (Exception ex)
        {
            Assert.Fail($"the YAML does not parse: {ex.Message}\n{yaml}");
            return;
        }
        Assert.True(DataEquals(doc.RootElement, read, out string where), $"the YAML reads back differently at {where}\n{yaml}");
    }

    /// <summary>YAML read with every unquoted scalar typed (int, double, bool, null), as a YAML 1.1 reader would.</summary>
    private static object? Read(string yaml) =>
        new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<object?>(yaml);

    private static bool DataEquals(JsonElement json, object? yaml, out string where)
    {
        where = "";
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                if (yaml is not IDictionary<object, object?> map || map.Count != json.EnumerateObject().Count())
                {
                    where = "an object";
                    return false;
                }
                foreach (var p in json.EnumerateObject())
                {
                    if (!map.TryGetValue(p.Name, out object? value))
                    {
                        where = $"key {JsonSerializer.Serialize(p.Name)} (keys read: {string.Join(", ", map.Keys.Select(k => JsonSerializer.Serialize(k)))})";
                        return false;
                    }
                    if (!DataEquals(p.Value, value, out where))
                    {
                        where = p.Name + "/" + where;
                        return false;
                    }
                }
                return true;
            case JsonValueKind.Array:
                if (yaml is not IList<object?> list || list.Count != json.GetArrayLength())
                {
                    where = "an array";
                    return false;
                }
                int i = 0;
                foreach (var item in json.EnumerateArray())
                {
                    if (!DataEquals(item, list[i], out where))
                    {
                        where = $"[{i}]/{where}";
                        return false;
                    }
                    i++;
                }
                return true;
            case JsonValueKind.String:
                where = $"{JsonSerializer.Serialize(json.GetString())} read as {Describe(yaml)}";
                return yaml is string s && s == json.GetString();
            case JsonValueKind.Number:
                where = $"{json.GetRawText()} read as {Describe(yaml)}";
                // The reader picks the narrowest type that holds it (int, float, double): equal to float precision.
                return yaml is not string and not bool and not null
                       && Math.Abs(Convert.ToDouble(yaml, CultureInfo.InvariantCulture) - json.GetDouble()) <= 1e-6 * Math.Abs(json.GetDouble());
            case JsonValueKind.True or JsonValueKind.False:
                where = $"{json.GetRawText()} read as {Describe(yaml)}";
                return yaml is bool b && b == json.GetBoolean();
            default:
                where = $"null read as {Describe(yaml)}";
                return yaml is null;
        }
    }

    private static string Describe(object? value) => value is null ? "null" : $"{value.GetType().Name} {JsonSerializer.Serialize(value.ToString())}";
}
