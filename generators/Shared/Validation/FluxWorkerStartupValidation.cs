#nullable enable
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>
/// FLUX024: the rules of a [FluxWorkerStartup] method. The generated registry calls it from another type of the
/// assembly, once per worker process, with no arguments, and waits for it: it must be an ordinary static method
/// without parameters or type parameters, returning void, Task or ValueTask, that the registry can reach.
/// The generator registers exactly the methods this finds no problem with; the analyzers report the rest.
/// </summary>
internal static class FluxWorkerStartupValidation
{
    public const string AttributeMetadataName = "FluxApps.FluxWorkerStartupAttribute";

    /// <summary>The problems of a method marked [FluxWorkerStartup]; empty when the generator can register it.</summary>
    public static List<FluxAppProblem> Validate(IMethodSymbol method)
    {
        var problems = new List<FluxAppProblem>();
        Location where = method.Locations.FirstOrDefault() ?? Location.None;
        string name = method.MethodKind == MethodKind.AnonymousFunction ? "a lambda" : $"'{method.Name}'";
        void Add(string why) => problems.Add(new FluxAppProblem(FluxDiagnostics.InvalidWorkerStartup, where,
            $"[FluxWorkerStartup] method {name} {why} (a worker process calls it once, before its first call, without arguments or an instance)"));

        if (method.MethodKind != MethodKind.Ordinary || method.ContainingType is null)
        {
            Add("is not an ordinary method of a type");
            return problems;
        }
        if (!method.IsStatic) Add("is not static");
        if (method.IsAbstract || method.IsVirtual) Add("is abstract or virtual");
        if (method.Parameters.Length > 0) Add($"takes {method.Parameters.Length} parameter(s)");
        if (method.IsGenericMethod) Add("is generic");
        if (method.IsAsync && method.ReturnsVoid) Add("is async void, so the worker cannot wait for it or see its exception; return Task");
        else if (!method.ReturnsVoid && StartupReturn(method) is null)
            Add($"returns {method.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}; return void, Task or ValueTask");
        if (method.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
            Add("is private or protected, so the generated registry cannot call it; make it internal or public");
        for (var t = method.ContainingType; t is not null; t = t.ContainingType)
        {
            if (t.IsGenericType)
            {
                Add($"is inside generic type '{t.Name}'");
                break;
            }
            if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal || t.IsFileLocal)
            {
                Add($"is inside '{t.Name}', which the generated registry cannot reach; make the type internal or public");
                break;
            }
        }
        return problems;
    }

    /// <summary>"void", "Task" or "ValueTask" for a method the registry can wait for; null otherwise.</summary>
    public static string? StartupReturn(IMethodSymbol method)
    {
        if (method.ReturnsVoid) return "void";
        string type = method.ReturnType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        return type switch
        {
            "global::System.Threading.Tasks.Task" => "Task",
            "global::System.Threading.Tasks.ValueTask" => "ValueTask",
            _ => null,
        };
    }
}
