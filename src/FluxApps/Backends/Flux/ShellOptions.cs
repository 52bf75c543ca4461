using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace FluxApps.Backends.Flux;

/// <summary>
/// Job shell options (<c>flux run -o NAME=VALUE</c>), as a tree: a dotted name sets a nested
/// option (<c>output.limit</c>). Values are given as text, read as the CLI reads <c>-o</c> values:
/// JSON (a number, <c>true</c>/<c>false</c>, an object, an array, a quoted string) stays JSON,
/// anything else is a string; <c>taskmap</c> also takes the CLI's <c>SCHEME[:VALUE]</c> form.
/// </summary>
internal sealed class ShellOptions
{
    public static readonly ShellOptions Empty = new(Array.Empty<KeyValuePair<string, string>>());

    /// <summary>Options FluxApps sets unless told otherwise: fail the job as soon as one rank fails, as the local backend does.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Defaults = new Dictionary<string, string?>
    {
        ["exit-on-error"] = "1",
    };

    private readonly KeyValuePair<string, string>[] _entries; // dotted name -> value text, in order

    private ShellOptions(KeyValuePair<string, string>[] entries) => _entries = entries;

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>The options by dotted name, in the order they were set.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Entries => _entries;

    /// <summary>
    /// Merges layers, later ones winning; a null value removes the option (and everything under it).
    /// Throws <see cref="ArgumentException"/> for a malformed name.
    /// </summary>
    public static ShellOptions Merge(params IReadOnlyDictionary<string, string?>?[] layers)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var layer in layers)
        {
            if (layer is null) continue;
            foreach (var (name, value) in layer)
            {
                CheckName(name);
                // Setting or removing "a" replaces "a" and "a.*"; setting "a.b" replaces a plain "a".
                result.RemoveAll(e => e.Key == name || e.Key.StartsWith(name + ".", StringComparison.Ordinal)
                                      || name.StartsWith(e.Key + ".", StringComparison.Ordinal));
                if (value is not null) result.Add(new(name, value));
            }
        }
        return new ShellOptions(result.ToArray());
    }

    /// <summary>
    /// The options of one job: FluxApps's <see cref="Defaults"/> (only for jobs of several tasks:
    /// a single task ends its job anyway), then the runtime's, then the call's.
    /// </summary>
    public static ShellOptions ForJob(int ranks, IReadOnlyDictionary<string, string?>? runtimeOptions, IReadOnlyDictionary<string, string?>? callOptions) =>
        Merge(ranks > 1 ? Defaults : null, runtimeOptions, callOptions);

    /// <summary>A copy with one more option (replacing what it overlaps).</summary>
    public ShellOptions With(string name, string value) =>
        Merge(_entries.ToDictionary(e => e.Key, e => (string?)e.Value), new Dictionary<string, string?> { [name] = value });

    /// <summary>JSON text of a string value (so a path such as <c>1.0</c> stays a string).</summary>
    public static string Quote(string text) => JsonEncodedText.Encode(text, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) is var e
        ? "\"" + e.ToString() + "\""
        : text;

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Split('.').Any(part => part.Length == 0 || part.Trim() != part))
            throw new ArgumentException($"Shell option name \"{name}\" is not valid: use names such as \"cpu-affinity\" or \"output.limit\".");
    }

    /// <summary>Writes the options as one JSON object.</summary>
    public void WriteTo(Utf8JsonWriter w)
    {
        var root = new Node();
        foreach (var (name, value) in _entries)
        {
            var node = root;
            string[] parts = name.Split('.');
            for (int i = 0; i < parts.Length - 1; i++)
            {
                if (!node.Children.TryGetValue(parts[i], out var child))
                {
                    child = new Node();
                    node.Children.Add(parts[i], child);
                    node.Order.Add(parts[i]);
                }
                node = child;
            }
            var leaf = new Node { Value = ValueJson(name, value) };
            if (!node.Children.ContainsKey(parts[^1])) node.Order.Add(parts[^1]);
            node.Children[parts[^1]] = leaf;
        }
        Write(w, root);
    }

    private static void Write(Utf8JsonWriter w, Node node)
    {
        if (node.Value is not null)
        {
            w.WriteRawValue(node.Value, skipInputValidation: false);
            return;
        }
        w.WriteStartObject();
        foreach (string key in node.Order)
        {
            w.WritePropertyName(key);
            Write(w, node.Children[key]);
        }
        w.WriteEndObject();
    }

    /// <summary>The JSON for one option's value text.</summary>
    public static string ValueJson(string name, string text)
    {
        string trimmed = text.Trim();
        if (name == "taskmap" && !trimmed.StartsWith('{'))
        {
            int colon = trimmed.IndexOf(':');
            string scheme = colon < 0 ? trimmed : trimmed[..colon];
            string value = colon < 0 ? "" : trimmed[(colon + 1)..];
            return "{\"scheme\":" + Quote(scheme) + ",\"value\":" + Quote(value) + "}";
        }
        if (trimmed.Length > 0)
        {
            try
            {
                using var doc = JsonDocument.Parse(trimmed);
                if (doc.RootElement.ValueKind != JsonValueKind.Null) return doc.RootElement.GetRawText();
            }
            catch (JsonException)
            {
                // not JSON: a plain string such as per-task or none
            }
        }
        return Quote(text);
    }

    private sealed class Node
    {
        public string? Value;
        public readonly Dictionary<string, Node> Children = new(StringComparer.Ordinal);
        public readonly List<string> Order = new();
    }
}
