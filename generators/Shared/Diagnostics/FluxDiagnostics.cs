#nullable enable
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>
/// The FluxApps diagnostics. Ids FLUX001–FLUX011 are fixed by the design; FLUX020 and up are ours.
/// The message is the rule's own text (see FluxAppValidation and FluxAppRules), which names
/// the offending value, so every descriptor formats just "{0}". They live beside the rules:
/// a <see cref="FluxAppProblem"/> carries its descriptor, so nothing is looked up by id. Only the
/// analyzers report them; the generator compiles them in because the shared rules name them.
/// </summary>
internal static class FluxDiagnostics
{
    public const string Category = "FluxApps";

    /// <summary>Where the per-id pages live; each descriptor links to its own.</summary>
    public const string HelpLinkBase = "https://github.com/fluxapps/fluxapps/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor MethodNotStatic = Create("FLUX001",
        "[FluxApp] method is not static",
        "An app runs in a job, in another process, where there is no instance to call it on.");

    public static readonly DiagnosticDescriptor TypeNotPartial = Create("FLUX002",
        "Type of a [FluxApp] method is not partial",
        "The generated stub is added to the type that declares the app and to every type around it, which needs all of them to be partial.");

    public static readonly DiagnosticDescriptor ResourceOutOfRange = Create("FLUX003",
        "Resource value out of range",
        "Cpus must be at least 1, Gpus at least 0, MpiRanks at least 1, Nodes at least 0, Urgency 0 to 31 and Retries at least 0.");

    public static readonly DiagnosticDescriptor NodesExceedRanks = Create("FLUX004",
        "Nodes exceeds MpiRanks",
        "Flux gives every allocated node at least one rank, so a job cannot ask for more nodes than ranks.");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Create("FLUX005",
        "Unsupported [FluxApp] parameter",
        "Arguments are copied to the job: ref, out, in and params parameters, pointers, ref structs and delegates cannot be.");

    public static readonly DiagnosticDescriptor NotSerializable = Create("FLUX006",
        "Type cannot be serialized",
        "Every parameter and the return value of an app travel between processes, so FluxApps must be able to write and rebuild them.");

    public static readonly DiagnosticDescriptor GenericApp = Create("FLUX007",
        "[FluxApp] method is generic or inside a generic type",
        "The job must know the exact types of the arguments to read them and to call the method.");

    public static readonly DiagnosticDescriptor InvalidTimeLimit = Create("FLUX008",
        "TimeLimit is not a Flux Standard Duration",
        "Flux takes durations as a number with an optional unit ms, s, m, h or d (RFC 23).");

    public static readonly DiagnosticDescriptor StubNameCollision = Create("FLUX009",
        "Stub name collides with an existing member",
        "The generator adds a method named after the app with the suffix Async; another member of that name and parameters would clash with it.");

    public static readonly DiagnosticDescriptor ExclusiveWithoutNodes = Create("FLUX010",
        "Exclusive = true without Nodes",
        "Whole nodes can only be allocated when the job says how many.");

    public static readonly DiagnosticDescriptor DoesNotFitCluster = Create("FLUX011",
        "Request does not fit the declared cluster",
        "The request can never be satisfied by the machine declared with [assembly: FluxCluster(...)]; Flux would accept and then fail it.");

    public static readonly DiagnosticDescriptor InaccessibleType = Create("FLUX020",
        "Type of a [FluxApp] method is not reachable from generated code",
        "The generated registry and worker entry point live in other files of the assembly and must be able to name the app's type.");

    public static readonly DiagnosticDescriptor NotAnAppMethod = Create("FLUX021",
        "[FluxApp] on something that is not a named method of a type",
        "Stubs are generated for named methods of a type only: not for local functions, lambdas, operators, accessors, explicit interface implementations or static abstract interface members.");

    public static readonly DiagnosticDescriptor EmptyText = Create("FLUX022",
        "Name or Queue is empty",
        "An empty job name or queue is rejected at every call; leave the property out to get the default.");

        public static readonly DiagnosticDescriptor PoolCannotRun = Create("FLUX023",
            "App cannot run in a pool",
            "A pooled call runs as one task inside a long-lived worker process: an app with MpiRanks above 1, or a command app (returning FluxCommand), needs a job of its own.");

    public static readonly DiagnosticDescriptor InvalidWorkerStartup = Create("FLUX024",
        "Invalid [FluxWorkerStartup] method",
        "A worker process runs each start-up method once, before its first call: it must be a static, parameterless, non-generic method returning void, Task or ValueTask that generated code can reach.");

    /// <summary>Every descriptor, in id order.</summary>
    public static readonly ImmutableArray<DiagnosticDescriptor> All = ImmutableArray.Create(
        MethodNotStatic, TypeNotPartial, ResourceOutOfRange, NodesExceedRanks, UnsupportedParameter, NotSerializable,
        GenericApp, InvalidTimeLimit, StubNameCollision, ExclusiveWithoutNodes, DoesNotFitCluster, InaccessibleType,
            NotAnAppMethod, EmptyText, PoolCannotRun, InvalidWorkerStartup);

    private static DiagnosticDescriptor Create(string id, string title, string description) => new(
        id,
        title,
        messageFormat: "{0}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description,
        helpLinkUri: HelpLinkBase + id + ".md");
}
