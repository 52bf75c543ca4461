#nullable enable
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators;

/// <summary>Rules on the parameters and the return value: what can be copied to a job and back.</summary>
internal static partial class FluxAppValidation
{
    /// <summary>
    /// FLUX005 (parameters that cannot be copied) and FLUX006 (types that cannot be serialized, async void,
    /// ref returns). The shapes of every parameter and result type are added to <paramref name="typeShapes"/>
    /// on the way: the generator emits its serializers from them.
    /// </summary>
    private static void CheckSignature(IMethodSymbol method, TypeShapeBuilder typeShapes, List<FluxAppProblem> problems, CancellationToken cancellationToken)
    {
        foreach (var parameter in method.Parameters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool isToken = IsCancellationToken(parameter.Type);
            Location where = parameter.Locations.FirstOrDefault() ?? method.Locations.FirstOrDefault() ?? Location.None;
            if (parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is ParameterSyntax ps)
                where = ps.GetLocation();
            string? unsupported = parameter.RefKind switch
            {
                RefKind.Ref => "is passed by ref",
                RefKind.Out => "is an out parameter",
                RefKind.In => "is an in parameter",
                RefKind.None => null,
                _ => "is passed by reference",
            };
            if (unsupported is null && isToken && parameter.Ordinal != method.Parameters.Length - 1)
            {
                problems.Add(new FluxAppProblem(FluxDiagnostics.UnsupportedParameter, where,
                    $"Parameter '{parameter.Name}' of [FluxApp] method '{method.Name}' is a CancellationToken but not the last parameter: a token cannot be copied to the job; the call's own token is passed to an app only as its last parameter, so move '{parameter.Name}' to the end"));
                continue;
            }
            if (unsupported is null && parameter.IsParams) unsupported = "is a params parameter";
            if (unsupported is null && parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer) unsupported = $"is a pointer ({Display(parameter.Type)})";
            if (unsupported is null && parameter.Type.IsRefLikeType) unsupported = $"is a ref struct ({Display(parameter.Type)}) that cannot leave the stack; use an array";
            if (unsupported is null && parameter.Type.TypeKind == TypeKind.Delegate) unsupported = $"is a delegate ({Display(parameter.Type)}): code cannot travel to a job";
            if (unsupported is not null)
            {
                problems.Add(new FluxAppProblem(FluxDiagnostics.UnsupportedParameter, where,
                    $"Parameter '{parameter.Name}' of [FluxApp] method '{method.Name}' {unsupported}: app arguments are copied to the job, so only plain values are allowed"));
                continue;
            }
            if (isToken) continue; // the call's own token, not an argument: it is not serialized
            string? error = WhyNotSerializable(typeShapes, parameter.Type);
            if (error is not null)
                problems.Add(new FluxAppProblem(FluxDiagnostics.NotSerializable, where,
                    $"Parameter '{parameter.Name}' of [FluxApp] method '{method.Name}' cannot be serialized: {error}",
                    reportedElsewhere: ContainsUnknownType(parameter.Type)));
        }

        Location returnTypeLocation = method.Locations.FirstOrDefault() ?? Location.None;
        if (method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax md)
            returnTypeLocation = md.ReturnType.GetLocation();
        ITypeSymbol? result = ResultType(method.ReturnType, out _);
        if (result is not null)
        {
            string? error = WhyNotSerializable(typeShapes, result);
            if (error is not null)
                problems.Add(new FluxAppProblem(FluxDiagnostics.NotSerializable, returnTypeLocation,
                    $"The return type of [FluxApp] method '{method.Name}' cannot be serialized: {error}",
                    reportedElsewhere: ContainsUnknownType(result)));
        }
        if (method.IsAsync && method.ReturnsVoid)
            problems.Add(new FluxAppProblem(FluxDiagnostics.NotSerializable, returnTypeLocation,
                $"[FluxApp] method '{method.Name}' is async void: the job cannot wait for it to finish or see its exceptions; return Task"));
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            problems.Add(new FluxAppProblem(FluxDiagnostics.NotSerializable, method.Locations.FirstOrDefault() ?? Location.None,
                $"[FluxApp] method '{method.Name}' returns by reference: a job can only return a value"));
    }

    /// <summary>Whether <paramref name="type"/> is <c>System.Threading.CancellationToken</c>.</summary>
    public static bool IsCancellationToken(ITypeSymbol type) =>
        type is INamedTypeSymbol { Name: "CancellationToken", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };

    /// <summary>
    /// Whether the app's last parameter is the call's <c>CancellationToken</c> (not serialized; the stub does not
    /// repeat it, its own token feeds it). Only a by-value last parameter counts; anything else is FLUX005.
    /// </summary>
    public static bool TakesCancellationToken(IMethodSymbol method) =>
        method.Parameters.Length > 0 && method.Parameters[method.Parameters.Length - 1] is { RefKind: RefKind.None, IsParams: false } last
        && IsCancellationToken(last.Type);

    /// <summary>The parameters the stub repeats and the payload carries: all but a trailing CancellationToken.</summary>
    public static int ArgumentCount(IMethodSymbol method) => method.Parameters.Length - (TakesCancellationToken(method) ? 1 : 0);

    /// <summary>The type of the value an app returns (unwrapping Task&lt;T&gt;/ValueTask&lt;T&gt;), or null for none.</summary>
    public static ITypeSymbol? ResultType(ITypeSymbol returnType, out ReturnKind kind)
    {
        if (returnType.SpecialType == SpecialType.System_Void)
        {
            kind = ReturnKind.Void;
            return null;
        }
        string definition = returnType.OriginalDefinition.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        switch (definition)
        {
            case "global::System.Threading.Tasks.Task":
                kind = ReturnKind.Task;
                return null;
            case "global::System.Threading.Tasks.ValueTask":
                kind = ReturnKind.ValueTask;
                return null;
            case "global::System.Threading.Tasks.Task<TResult>":
                kind = ReturnKind.TaskOfT;
                return ((INamedTypeSymbol)returnType).TypeArguments[0];
            case "global::System.Threading.Tasks.ValueTask<TResult>":
                kind = ReturnKind.ValueTaskOfT;
                return ((INamedTypeSymbol)returnType).TypeArguments[0];
        }
        if (definition == "global::FluxApps.FluxCommand")
        {
            kind = ReturnKind.Command; // runs as the job's tasks itself: nothing comes back to deserialize
            return null;
        }
        kind = ReturnKind.Value;
        return returnType;
    }
}
