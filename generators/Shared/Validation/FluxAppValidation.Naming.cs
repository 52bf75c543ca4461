#nullable enable
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>The stub's name and the names generated code reserves.</summary>
internal static partial class FluxAppValidation
{
    /// <summary>The stub's name for an app method.</summary>
    public static string StubName(IMethodSymbol method) => method.Name + "Async";

    /// <summary>FLUX009: the stub must not clash with a member of the type, nor a parameter with the generated code's own names.</summary>
    private static void CheckStubNames(IMethodSymbol method, List<FluxAppProblem> problems)
    {
        string stub = StubName(method);
        Location where = method.Locations.FirstOrDefault() ?? Location.None;
        foreach (var member in method.ContainingType.GetMembers(stub))
        {
            if (member.IsImplicitlyDeclared || IsGeneratedByFluxApps(member)) continue;
            if (member is IMethodSymbol other && !LeadingParametersMatch(other, method)) continue; // a distinct overload
            problems.Add(new FluxAppProblem(FluxDiagnostics.StubNameCollision, where,
                $"The stub '{stub}' of [FluxApp] method '{method.Name}' collides with the existing member '{member.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}'; rename the method or the member"));
            return;
        }
        // Two apps whose arguments match (one of them taking a trailing CancellationToken, which the stub does not
        // repeat) would get the same stub: both are reported, and neither stub is generated.
        foreach (var member in method.ContainingType.GetMembers(method.Name))
        {
            if (member is not IMethodSymbol other || SymbolEqualityComparer.Default.Equals(other, method) || !HasFluxAppAttribute(other)) continue;
            if (ArgumentCount(other) != ArgumentCount(method) || !LeadingParametersMatch(other, method)) continue;
            problems.Add(new FluxAppProblem(FluxDiagnostics.StubNameCollision, where,
                $"The stub '{stub}' of [FluxApp] method '{method.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}' would be the same as the stub of [FluxApp] method "
                + $"'{other.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}' (a trailing CancellationToken is not one of a stub's parameters); rename one of them"));
            return;
        }
        foreach (var parameter in method.Parameters)
        {
            if (parameter.Name.StartsWith("__flux", StringComparison.Ordinal))
                problems.Add(new FluxAppProblem(FluxDiagnostics.StubNameCollision, parameter.Locations.FirstOrDefault() ?? where,
                    $"Parameter name '{parameter.Name}' of [FluxApp] method '{method.Name}' is reserved for generated code (names starting with __flux); rename it"));
        }
    }

    /// <summary>A method whose parameters start with the app's parameter types would make the stub ambiguous or unreachable.</summary>
    private static bool LeadingParametersMatch(IMethodSymbol other, IMethodSymbol app)
    {
        int count = ArgumentCount(app); // the stub does not repeat a trailing CancellationToken
        if (other.Parameters.Length < count) return false;
        for (int i = 0; i < count; i++)
        {
            if (!SymbolEqualityComparer.Default.Equals(other.Parameters[i].Type.WithNullableAnnotation(NullableAnnotation.None),
                    app.Parameters[i].Type.WithNullableAnnotation(NullableAnnotation.None)))
                return false;
        }
        return true;
    }

    private static bool HasFluxAppAttribute(IMethodSymbol method) =>
        method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == AttributeMetadataName);

    /// <summary>True for members the FluxApps generator emitted (the analyzers see them in the compilation).</summary>
    public static bool IsGeneratedByFluxApps(ISymbol member) =>
        member.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.CodeDom.Compiler.GeneratedCodeAttribute"
            && a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value as string == GeneratorName);

    /// <summary>The tool name in the generated code's [GeneratedCode] attributes.</summary>
    public const string GeneratorName = "FluxApps.Generators";
}
