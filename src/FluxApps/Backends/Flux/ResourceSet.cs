using System;
using System.Globalization;
using System.Text.Json;

namespace FluxApps.Backends.Flux;

/// <summary>
/// What an instance's resource set (RFC 20 R, version 1: <c>resource.R</c> in its KVS) says of its nodes: how many
/// there are, and the cores and GPUs of the smallest one (a job sized to that fits on every node).
/// </summary>
/// <param name="Nodes">Execution targets (broker ranks) that have resources.</param>
/// <param name="CoresPerNode">Cores of the node with the fewest.</param>
/// <param name="GpusPerNode">GPUs of the node with the fewest.</param>
internal sealed record ResourceSet(int Nodes, int CoresPerNode, int GpusPerNode)
{
    /// <summary>The resource set in <paramref name="json"/>, or null when it is not an R version 1 with at least one core.</summary>
    public static ResourceSet? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || version.GetInt32() != 1) return null;
            if (!root.TryGetProperty("execution", out var execution) || !execution.TryGetProperty("R_lite", out var lite)
                || lite.ValueKind != JsonValueKind.Array)
                return null;
            int nodes = 0, cores = int.MaxValue, gpus = int.MaxValue;
            foreach (var entry in lite.EnumerateArray())
            {
                int ranks = IdsetCount(entry.GetProperty("rank").GetString());
                var children = entry.GetProperty("children");
                int entryCores = children.TryGetProperty("core", out var c) ? IdsetCount(c.GetString()) : 0;
                int entryGpus = children.TryGetProperty("gpu", out var g) ? IdsetCount(g.GetString()) : 0;
                if (ranks <= 0) return null;
                nodes += ranks;
                cores = Math.Min(cores, entryCores);
                gpus = Math.Min(gpus, entryGpus);
            }
            return nodes > 0 && cores > 0 && cores != int.MaxValue ? new ResourceSet(nodes, cores, gpus) : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or OverflowException or System.Collections.Generic.KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>How many ids an RFC 22 idset holds (<c>"0-3,8,10-11"</c> holds 7); -1 when it is not one.</summary>
    public static int IdsetCount(string? idset)
    {
        if (string.IsNullOrEmpty(idset)) return 0;
        string text = idset.Trim();
        // RFC 22 allows brackets around the list.
        if (text.StartsWith('[') && text.EndsWith(']')) text = text[1..^1];
        long count = 0;
        foreach (string part in text.Split(','))
        {
            int dash = part.IndexOf('-');
            if (dash < 0)
            {
                if (!uint.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return -1;
                count++;
            }
            else
            {
                if (!uint.TryParse(part.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out uint first)
                    || !uint.TryParse(part.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out uint last) || last < first)
                    return -1;
                count += last - first + 1L;
            }
        }
        return count > int.MaxValue ? -1 : (int)count;
    }
}
