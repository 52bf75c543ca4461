using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace FluxApps.Tests.Shared;

/// <summary>RFC 25's jobspec V1 JSON Schema (<c>spec_25-schema.json</c> beside this file, copied into the test output as Rfc/).</summary>
internal static class RfcSchema
{
    private static string SchemaPath
    {
        get
        {
            string copy = Path.Combine(AppContext.BaseDirectory, "Rfc", "spec_25-schema.json");
            if (File.Exists(copy)) return copy;
            throw new FileNotFoundException($"RFC 25's schema was not found at {copy}.");
        }
    }

    /// <summary>The official schema, unchanged.</summary>
    private static readonly Lazy<JsonSchema> s_schema = new(() => JsonSchema.FromText(File.ReadAllText(SchemaPath)));

    /// <summary>
    /// The official schema with its one known erratum fixed: RFC 25's text says a node vertex MAY
    /// carry <c>exclusive</c> (and Flux's schedulers read it there), but the schema file lists
    /// <c>exclusive</c> under the slot vertex only. Used for exclusive jobspecs alone.
    /// </summary>
    private static readonly Lazy<JsonSchema> s_schemaWithNodeExclusive = new(() =>
    {
        var root = JsonNode.Parse(File.ReadAllText(SchemaPath))!.AsObject();
        root["$id"] = "http://github.com/flux-framework/rfc/tree/master/data/spec_25/schema-node-exclusive.json";
        root["definitions"]!["node_vertex"]!["properties"]!.AsObject()["exclusive"] = new JsonObject { ["type"] = "boolean" };
        return JsonSchema.FromText(root.ToJsonString());
    });

    /// <summary>Whether the jobspec validates against the official schema, erratum not applied.</summary>
    public static bool IsValidUnchanged(string jobspec)
    {
        using var doc = JsonDocument.Parse(jobspec);
        return s_schema.Value.Evaluate(doc.RootElement).IsValid;
    }

    /// <summary>Fails the test, listing the schema's errors, unless the jobspec validates.</summary>
    public static void AssertValid(string jobspec, bool nodeExclusiveErratum = false)
    {
        using var doc = JsonDocument.Parse(jobspec);
        var schema = nodeExclusiveErratum ? s_schemaWithNodeExclusive.Value : s_schema.Value;
        var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!result.IsValid)
        {
            var errors = (result.Details ?? []).Where(d => d.Errors is not null)
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"));
            Assert.Fail("jobspec does not validate against RFC 25's schema:\n" + string.Join("\n", errors) + "\n" + jobspec);
        }
    }
}
