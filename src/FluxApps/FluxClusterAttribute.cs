using System;

namespace FluxApps;

/// <summary>
/// Declares the shape of the machine an assembly's apps are meant for, so the analyzers can
/// reject requests that could never fit it (FLUX011) at compile time.
/// </summary>
/// <example><c>[assembly: FluxCluster(Nodes = 64, CoresPerNode = 112, GpusPerNode = 4)]</c></example>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class FluxClusterAttribute : Attribute
{
    /// <summary>Number of nodes in the machine; 0 if unknown.</summary>
    public int Nodes { get; set; }

    /// <summary>Cores on each node; 0 if unknown.</summary>
    public int CoresPerNode { get; set; }

    /// <summary>GPUs on each node; -1 (the default) if unknown.</summary>
    public int GpusPerNode { get; set; } = -1;
}
