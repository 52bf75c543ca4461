using System;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FluxApps.Runtime;

/// <summary>
/// Writes a JSON document as block-style YAML (the same data: mappings, sequences and scalars), for reading a
/// jobspec the way <c>flux job info JOBID jobspec | yq -P</c> shows it. A string stays plain only when no YAML
/// reader (1.1 or 1.2) can take it for anything else: it starts with a letter, <c>_</c> or <c>/</c>, holds only
/// letters, digits and <c>_ . / - + = @ , :</c> (a colon never last), and is no boolean, null or number word
/// (<c>yes</c>, <c>off</c>, <c>null</c>, <c>NaN</c>, ...). Every other string is double-quoted with YAML escapes.
/// Numbers keep their JSON text (a JSON number is a YAML 1.2 number); <c>true</c>, <c>false</c>, <c>null</c> stay.
/// </summary>
internal static class YamlEmitter
{
    private const int IndentStep = 2;

    /// <summary>The JSON text as YAML, ending with a newline.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static string FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FromJson(document.RootElement);
    }

    /// <summary>The JSON value as YAML, ending with a newline.</summary>
    public static string FromJson(JsonElement root)
    {
        var yaml = new StringBuilder(1024);
        WriteNode(yaml, root, 0, startsLine: true);
        return yaml.ToString();
    }

    /// <summary>
    /// Writes one node whose first line is already started when <paramref name="startsLine"/> is false
    /// (after <c>- </c>): the rest of its lines are indented by <paramref name="indent"/>.
    /// </summary>
    private static void WriteNode(StringBuilder yaml, JsonElement node, int indent, bool startsLine)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Object when !IsEmpty(node):
                bool first = true;
                foreach (var property in node.EnumerateObject())
                {
                    if (!first || startsLine) yaml.Append(' ', indent);
                    first = false;
                    yaml.Append(Scalar(property.Name)).Append(':');
                    WriteValueAfterKey(yaml, property.Value, indent);
                }
                break;
            case JsonValueKind.Array when !IsEmpty(node):
                bool firstItem = true;
                foreach (var item in node.EnumerateArray())
                {
                    if (!firstItem || startsLine) yaml.Append(' ', indent);
                    firstItem = false;
                    yaml.Append("- ");
                    if (IsCollection(item)) WriteNode(yaml, item, indent + IndentStep, startsLine: false);
                    else yaml.Append(Inline(item)).Append('\n');
                }
                break;
            default:
                if (startsLine) yaml.Append(' ', indent);
                yaml.Append(Inline(node)).Append('\n');
                break;
        }
    }

    /// <summary>After <c>key:</c>: a scalar (or empty collection) on the same line, a collection on the lines below, indented.</summary>
    private static void WriteValueAfterKey(StringBuilder yaml, JsonElement value, int indent)
    {
        if (!IsCollection(value))
        {
            yaml.Append(' ').Append(Inline(value)).Append('\n');
            return;
        }
        yaml.Append('\n');
        WriteNode(yaml, value, indent + IndentStep, startsLine: true);
    }

    /// <summary>A non-empty object or array (written over several lines).</summary>
    private static bool IsCollection(JsonElement e) => e.ValueKind is JsonValueKind.Object or JsonValueKind.Array && !IsEmpty(e);

    private static bool IsEmpty(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => !e.EnumerateObject().MoveNext(),
        JsonValueKind.Array => e.GetArrayLength() == 0,
        _ => false,
    };

    /// <summary>A value that fits on one line: a scalar, or an empty collection in flow style.</summary>
    private static string Inline(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => Scalar(e.GetString()!),
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "{}",
        JsonValueKind.Array => "[]",
        _ => throw new ArgumentException($"JSON value of kind {e.ValueKind} has no YAML form.", nameof(e)),
    };

    /// <summary>A string as a YAML scalar: plain when that reads back as the same string, else double-quoted.</summary>
    public static string Scalar(string text) => IsPlainSafe(text) ? text : DoubleQuoted(text);

    private static bool IsPlainSafe(string text)
    {
        if (text.Length == 0) return false;
        char first = text[0];
        if (!(char.IsAsciiLetter(first) || first is '_' or '/')) return false;
        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/' or '-' or '+' or '=' or '@' or ',' or ':')) return false;
        }
        if (text[^1] == ':') return false; // "key:" would start a mapping
        // Booleans and nulls of YAML 1.1 and 1.2, and words a lax reader parses as numbers (NaN, Infinity).
        switch (text.ToLowerInvariant())
        {
            case "true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n" or "null":
                return false;
        }
        return !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }

    private static string DoubleQuoted(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                case '\0': quoted.Append("\\0"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        quoted.Append(c).Append(text[++i]);
                    }
                    else if (c < 0x20 || c is >= '\u007F' and <= '\u009F' or '\u2028' or '\u2029' or '\uFEFF' or '\uFFFE' or '\uFFFF'
                             || char.IsSurrogate(c))
                    {
                        // Not printable in YAML, or a line break to a YAML 1.1 reader: escaped.
                        quoted.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        quoted.Append(c);
                    }
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
