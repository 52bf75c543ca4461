#nullable enable
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>
/// Every rule a [FluxApp] method must satisfy. The analyzers report what this returns; the
/// generator emits nothing for a method with any problem, so users see the FLUX error and no
/// cascade of compiler errors on top of it. The rules are split by concern:
/// FluxAppValidation.Declaration.cs (what the method is and where it is declared),
/// .Resources.cs (the attribute's values), .Signature.cs (parameters and return value),
/// .Serializability.cs (whether their types travel whole) and .Naming.cs (the stub's name).
/// </summary>
internal static partial class FluxAppValidation
{
    public const string AttributeMetadataName = "FluxApps.FluxAppAttribute";
    public const string ClusterAttributeMetadataName = "FluxApps.FluxClusterAttribute";
    public const string OptionsParameterName = "options";
    public const string CancellationParameterName = "cancellationToken";

    /// <summary>Checks the method; <paramref name="cluster"/> (may be null) enables FLUX011.</summary>
    public static FluxAppValidationResult Validate(IMethodSymbol method, AttributeData attribute, AttributeData? cluster, CancellationToken cancellationToken)
    {
        var problems = new List<FluxAppProblem>();
        var typeShapes = new TypeShapeBuilder();
        // Nothing else matters for a method the generator cannot stub and call: say only that.
        if (CheckIsAppMethod(method, attribute, problems, cancellationToken))
        {
            CheckDeclaration(method, problems, cancellationToken);
            CheckResources(method, attribute, cluster, problems, cancellationToken);
            CheckSignature(method, typeShapes, problems, cancellationToken);
            CheckStubNames(method, problems);
        }
        return new FluxAppValidationResult(problems, typeShapes.Shapes);
    }

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
}

/// <summary>
/// What <see cref="FluxAppValidation.Validate"/> found: the problems, and the serialization shapes it
/// built while checking the parameter and result types. When there is no problem, the shapes are
/// complete and the generator emits from them, so the types are walked once.
/// </summary>
internal sealed class FluxAppValidationResult
{
    public FluxAppValidationResult(IReadOnlyList<FluxAppProblem> problems, IEnumerable<TypeShape> typeShapes)
    {
        Problems = problems;
        TypeShapes = typeShapes;
    }

    public IReadOnlyList<FluxAppProblem> Problems { get; }

    /// <summary>The shapes of every parameter and result type and of the types inside them (complete only without problems).</summary>
    public IEnumerable<TypeShape> TypeShapes { get; }

    public bool HasProblems => Problems.Count > 0;
}
