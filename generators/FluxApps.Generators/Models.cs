#nullable enable
using System;

namespace FluxApps.Generators;

/// <summary>One type around the app method, outermost first: its declaration keyword and name.</summary>
internal sealed record ContainingTypeInfo(string Keyword, string Name) : IEquatable<ContainingTypeInfo>;

/// <summary>A parameter of the app method as the stub repeats it.</summary>
/// <param name="Name">Escaped identifier.</param>
/// <param name="Type">Type with nullable annotations, <c>global::</c>-qualified.</param>
/// <param name="TypeKey">Serialization key of the type (see <see cref="TypeShapeBuilder.KeyOf"/>).</param>
/// <param name="DefaultValue">C# text of the default value, or null.</param>
internal sealed record ParameterSpec(string Name, string Type, string TypeKey, string? DefaultValue) : IEquatable<ParameterSpec>;

/// <summary>
/// Everything the emitter needs about one valid [FluxApp] method: strings, ints and arrays of them only.
/// <see cref="Parameters"/> are the serialized ones; <see cref="TakesCancellationToken"/> says the method also
/// takes the call's token as its last parameter (not serialized, fed by the stub's own token).
/// </summary>
internal sealed record AppSpec(
    string Namespace,
    EquatableArray<ContainingTypeInfo> Hierarchy,
    string ContainingType,
    string MethodName,
    string Accessibility,
    string StubName,
    string OptionsName,
    string CancellationName,
    EquatableArray<ParameterSpec> Parameters,
    bool TakesCancellationToken,
    ReturnKind ReturnKind,
    string? ResultType,
    string? ResultKey,
    string AppId,
    string DisplayName,
    string MemberSuffix,
    int Cpus,
    int Gpus,
    int MpiRanks,
    int Nodes,
    bool Exclusive,
    string? TimeLimit,
    string? Queue,
    int Urgency,
    string? Name,
    int Retries,
    bool RetryOnAppException,
    bool Cache,
    string? Pool,
    string CodeHash,
    EquatableArray<TypeShape> Shapes) : IEquatable<AppSpec>;

/// <summary>A valid [FluxWorkerStartup] method: what the registry calls, by name, and how to wait for it.</summary>
/// <param name="Method">The method's <c>global::</c>-qualified type and escaped name.</param>
/// <param name="DisplayName">Type and method name as errors show them.</param>
/// <param name="Return">"void", "Task" or "ValueTask".</param>
internal sealed record StartupSpec(string Method, string DisplayName, string Return) : IEquatable<StartupSpec>;
