#nullable enable
using FluxApps.Internal;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>The values of a [FluxApp] attribute, defaults filled in.</summary>
internal sealed class FluxAppResources
{
    public int Cpus = 1;
    public int Gpus;
    public int MpiRanks = 1;
    public int Nodes;
    public bool Exclusive;
    public string? TimeLimit;
    public string? Queue;
    public int Urgency = FluxAppRules.DefaultUrgency;
    public string? Name;
    public int Retries;
    public bool RetryOnAppException;
    public bool Cache;
        public string? Pool;

    public static FluxAppResources Read(AttributeData attribute)
    {
        var r = new FluxAppResources();
        foreach (var pair in attribute.NamedArguments)
        {
            object? value = pair.Value.Value;
            switch (pair.Key)
            {
                case "Cpus" when value is int i: r.Cpus = i; break;
                case "Gpus" when value is int i: r.Gpus = i; break;
                case "MpiRanks" when value is int i: r.MpiRanks = i; break;
                case "Nodes" when value is int i: r.Nodes = i; break;
                case "Exclusive" when value is bool b: r.Exclusive = b; break;
                case "TimeLimit": r.TimeLimit = value as string; break;
                case "Queue": r.Queue = value as string; break;
                case "Urgency" when value is int i: r.Urgency = i; break;
                case "Name": r.Name = value as string; break;
                case "Retries" when value is int i: r.Retries = i; break;
                case "RetryOnAppException" when value is bool b: r.RetryOnAppException = b; break;
                case "Cache" when value is bool b: r.Cache = b; break;
                    case "Pool": r.Pool = value as string; break;
            }
        }
        return r;
    }
}
