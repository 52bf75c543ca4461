#nullable enable
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators;

/// <summary>Rules on what the method is and where it is declared: an ordinary method of reachable, partial, non-generic types.</summary>
internal static partial class FluxAppValidation
{
    /// <summary>
    /// FLUX021: whether <paramref name="method"/> is something the generator can stub and call at all.
    /// When it is not, that is the one problem reported: nothing else about it matters.
    /// </summary>
    private static bool CheckIsAppMethod(IMethodSymbol method, AttributeData attribute, List<FluxAppProblem> problems, CancellationToken cancellationToken)
    {
        string? notCallable = WhyNotAnAppMethod(method);
        if (notCallable is null) return true;
        Location attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation()
            ?? method.Locations.FirstOrDefault() ?? Location.None;
        problems.Add(new FluxAppProblem(FluxDiagnostics.NotAnAppMethod, attributeLocation, notCallable));
        return false;
    }

    /// <summary>FLUX001 (not static), FLUX007 (generic), FLUX002 (a type around it not partial) and FLUX020 (a type generated code cannot reach).</summary>
    private static void CheckDeclaration(IMethodSymbol method, List<FluxAppProblem> problems, CancellationToken cancellationToken)
    {
        Location methodLocation = method.Locations.FirstOrDefault() ?? Location.None;

        if (!method.IsStatic)
            problems.Add(new FluxAppProblem(FluxDiagnostics.MethodNotStatic, methodLocation,
                $"[FluxApp] method '{method.Name}' is not static: an app runs in another process, without an instance; make it static"));

        if (method.IsGenericMethod)
            problems.Add(new FluxAppProblem(FluxDiagnostics.GenericApp, methodLocation,
                $"[FluxApp] method '{method.Name}' is generic: the job must know the exact types of its arguments; use concrete types"));
        for (var t = method.ContainingType; t is not null; t = t.ContainingType)
        {
            if (t.IsGenericType)
            {
                problems.Add(new FluxAppProblem(FluxDiagnostics.GenericApp, methodLocation,
                    $"[FluxApp] method '{method.Name}' is inside generic type '{t.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}': the job must know exact types; move it to a non-generic type"));
                break;
            }
        }

        for (var t = method.ContainingType; t is not null; t = t.ContainingType)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var reference in t.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    string why = SymbolEqualityComparer.Default.Equals(t, method.ContainingType)
                        ? $"the generated stub '{StubName(method)}' of [FluxApp] method '{method.Name}' must be added to it"
                        : $"it encloses [FluxApp] method '{method.Name}', whose generated stub '{StubName(method)}' can only be added by reopening it";
                    problems.Add(new FluxAppProblem(FluxDiagnostics.TypeNotPartial, declaration.Identifier.GetLocation(),
                        $"Type '{t.Name}' is not partial, but {why}; declare it partial"));
                }
            }
            if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
                problems.Add(new FluxAppProblem(FluxDiagnostics.InaccessibleType, methodLocation,
                    $"[FluxApp] method '{method.Name}' is inside '{t.Name}', which is {AccessibilityText(t.DeclaredAccessibility)}: the generated worker entry point cannot reach it; make the type internal or public"));
            else if (t.IsFileLocal)
                problems.Add(new FluxAppProblem(FluxDiagnostics.InaccessibleType, methodLocation,
                    $"[FluxApp] method '{method.Name}' is inside '{t.Name}', which is a file-local type: the generated stub and worker entry point live in other files and cannot reach it; remove the 'file' modifier"));
        }
    }

    /// <summary>Why the generator cannot give <paramref name="method"/> a stub and call it from a worker; null for an ordinary method.</summary>
    private static string? WhyNotAnAppMethod(IMethodSymbol method)
    {
        string kind = method.MethodKind switch
        {
            MethodKind.Ordinary when method.ContainingType is null => "has no containing type",
            MethodKind.Ordinary when method.IsStatic && (method.IsAbstract || method.IsVirtual) =>
                "is a static abstract or virtual interface member, which can only be called through a type parameter",
            MethodKind.Ordinary when method.IsPartialDefinition && method.PartialImplementationPart is null =>
                "is a partial method without an implementation, whose calls the compiler removes",
            MethodKind.Ordinary => "",
            MethodKind.LocalFunction => "is a local function",
            MethodKind.AnonymousFunction => "is a lambda",
            MethodKind.UserDefinedOperator or MethodKind.Conversion => "is an operator",
            MethodKind.PropertyGet or MethodKind.PropertySet or MethodKind.EventAdd or MethodKind.EventRemove or MethodKind.EventRaise => "is an accessor",
            MethodKind.ExplicitInterfaceImplementation => "is an explicit interface implementation",
            MethodKind.Destructor => "is a finalizer",
            _ => "is not an ordinary method",
        };
        if (kind.Length == 0) return null;
        string name = method.MethodKind == MethodKind.AnonymousFunction ? "lambda" : $"'{method.Name}'";
        return $"[FluxApp] cannot be applied to {name}: it {kind}; the generator adds stubs only for named methods of a type; move the code to a static method of a partial type";
    }

    /// <summary>
    /// The first [FluxApp] method, in source order, declared in <paramref name="type"/> or its
    /// nested types; null if none. The analyzers report a type's FLUX002 once, with this app.
    /// </summary>
    public static IMethodSymbol? FirstAppInside(INamedTypeSymbol type, INamedTypeSymbol? attributeClass)
    {
        IMethodSymbol? first = null;
        foreach (var app in AppsInside(type, attributeClass))
        {
            if (first is null || CompareSourceOrder(app, first) < 0) first = app;
        }
        return first;
    }

    private static IEnumerable<IMethodSymbol> AppsInside(INamedTypeSymbol type, INamedTypeSymbol? attributeClass)
    {
        foreach (var member in type.GetMembers())
        {
            // Apps Validate stops at (FLUX021) never report shared problems, so they do not count.
            if (member is IMethodSymbol { PartialDefinitionPart: null } candidate && WhyNotAnAppMethod(candidate) is null
                && candidate.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeClass)))
                yield return candidate;
        }
        foreach (var nested in type.GetTypeMembers())
        {
            foreach (var app in AppsInside(nested, attributeClass))
                yield return app;
        }
    }

    private static int CompareSourceOrder(ISymbol x, ISymbol y)
    {
        Location a = x.Locations.FirstOrDefault() ?? Location.None, b = y.Locations.FirstOrDefault() ?? Location.None;
        int byFile = string.CompareOrdinal(a.SourceTree?.FilePath, b.SourceTree?.FilePath);
        return byFile != 0 ? byFile : a.SourceSpan.Start.CompareTo(b.SourceSpan.Start);
    }

    private static string AccessibilityText(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Private => "private",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => accessibility.ToString().ToLowerInvariant(),
    };
}
