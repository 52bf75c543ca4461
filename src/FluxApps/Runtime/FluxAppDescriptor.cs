using System;
using System.ComponentModel;
using System.Threading.Tasks;
using FluxApps.Serialization;

namespace FluxApps.Runtime;

/// <summary>Reads an app's result from the result payload. Generated code supplies it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate T FluxResultReader<T>(FluxReader reader);

/// <summary>Runs an app inside the worker: reads the arguments, invokes the method, writes the result. Generated.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask FluxAppEntryPoint(FluxReader arguments, FluxWriter result);

/// <summary>
/// Runs an app inside the worker, passing the call's cancellation token to an app that takes one (cancelled when
/// the call is cancelled or passes its time limit). Generated.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask FluxAppCancellableEntryPoint(FluxReader arguments, FluxWriter result, System.Threading.CancellationToken cancellationToken);

/// <summary>
/// What the generator knows of one app: its stable id, the type that declares it, and the
/// resources its attribute asks for. Generated code creates one per app.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FluxAppDescriptor
{
    private Guid _buildId;
    private string? _assemblyName;
    private string? _assemblyLocation;

    /// <summary>Creates the descriptor.</summary>
    /// <param name="id">Stable app id: the method's full name and parameter types.</param>
    /// <param name="displayName">Short name for messages and job names, e.g. <c>Physics.Simulate</c>.</param>
    /// <param name="declaringType">The type that declares the method (locates its assembly and build).</param>
    /// <param name="cpus">Cores per rank.</param>
    /// <param name="gpus">GPUs per rank.</param>
    /// <param name="mpiRanks">Ranks.</param>
    /// <param name="nodes">Nodes (0 = any).</param>
    /// <param name="exclusive">Whole nodes.</param>
    /// <param name="timeLimit">Flux Standard Duration or null.</param>
    /// <param name="queue">Queue or null.</param>
    /// <param name="urgency">Urgency 0–31.</param>
    /// <param name="name">Job name or null.</param>
    public FluxAppDescriptor(string id, string displayName, Type declaringType, int cpus, int gpus, int mpiRanks, int nodes,
        bool exclusive, string? timeLimit, string? queue, int urgency, string? name)
    {
        Id = id;
        DisplayName = displayName;
        DeclaringType = declaringType;
        Cpus = cpus;
        Gpus = gpus;
        MpiRanks = mpiRanks;
        Nodes = nodes;
        Exclusive = exclusive;
        TimeLimit = timeLimit;
        Queue = queue;
        Urgency = urgency;
        Name = name;
    }

    /// <summary>Stable app id.</summary>
    public string Id { get; }

    /// <summary>Short name, e.g. <c>Physics.Simulate</c>.</summary>
    public string DisplayName { get; }

    /// <summary>Type declaring the method.</summary>
    public Type DeclaringType { get; }

    /// <summary>Cores per rank.</summary>
    public int Cpus { get; }

    /// <summary>GPUs per rank.</summary>
    public int Gpus { get; }

    /// <summary>Ranks.</summary>
    public int MpiRanks { get; }

    /// <summary>Nodes (0 = scheduler's choice).</summary>
    public int Nodes { get; }

    /// <summary>Whole nodes.</summary>
    public bool Exclusive { get; }

    /// <summary>Time limit text, or null.</summary>
    public string? TimeLimit { get; }

    /// <summary>Queue, or null.</summary>
    public string? Queue { get; }

    /// <summary>Urgency.</summary>
    public int Urgency { get; }

    /// <summary>Job name, or null for the display name.</summary>
    public string? Name { get; }

    /// <summary>The attribute's <see cref="FluxAppAttribute.Retries"/>.</summary>
    public int Retries { get; init; }

    /// <summary>The attribute's <see cref="FluxAppAttribute.RetryOnAppException"/>.</summary>
    public bool RetryOnAppException { get; init; }

    /// <summary>The attribute's <see cref="FluxAppAttribute.Cache"/>.</summary>
    public bool Cache { get; init; }

    /// <summary>The attribute's <see cref="FluxAppAttribute.Pool"/>: the pool its calls run in, or null for a job per call.</summary>
    public string? Pool { get; init; }

    /// <summary>True when the app method takes a <see cref="System.Threading.CancellationToken"/> (its last parameter, not serialized).</summary>
    public bool TakesCancellationToken { get; init; }

    /// <summary>
    /// Hash the generator computed of the method's code (its declaration without attributes, comments
    /// and whitespace) and of the shapes of its parameter and result types: part of the checkpoint key,
    /// so editing the app invalidates its stored results. Null for descriptors made by hand.
    /// </summary>
    public string? CodeHash { get; init; }

    /// <summary>Simple name of the assembly that holds the app.</summary>
    public string AssemblyName => _assemblyName ??= DeclaringType.Assembly.GetName().Name!;

    /// <summary>File of the assembly that holds the app (empty in single-file and NativeAOT programs).</summary>
    public string AssemblyLocation => _assemblyLocation ??= AssemblyPaths.Of(DeclaringType.Assembly);

    /// <summary>
    /// Identity of the build of the app's assembly (its module version id, which NativeAOT keeps in the
    /// program's metadata, so a self-executing AOT worker checks it too); payloads of another build are refused.
    /// </summary>
    public Guid BuildId
    {
        get
        {
            if (_buildId == Guid.Empty) _buildId = DeclaringType.Module.ModuleVersionId;
            return _buildId;
        }
    }

    /// <inheritdoc />
    public override string ToString() => DisplayName;
}
