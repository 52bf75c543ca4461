#nullable enable
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluxApps.Internal;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators
{
    /// <summary>One broken rule of a [FluxApp] method: the diagnostic id, where, and the message text.</summary>
    internal sealed class FluxAppProblem
    {
        public FluxAppProblem(string id, Location location, string message)
        {
            Id = id;
            Location = location;
            Message = message;
        }

        public string Id { get; }
        public Location Location { get; }
        public string Message { get; }

        public override string ToString() => $"{Id}: {Message}";
    }

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
                }
            }
            return r;
        }
    }

    /// <summary>
    /// Every rule a [FluxApp] method must satisfy. The analyzers report what this returns; the
    /// generator emits nothing for a method with any problem, so users see the FLUX error and no
    /// cascade of compiler errors on top of it.
    /// </summary>
    internal static class FluxAppValidation
    {
        public const string AttributeMetadataName = "FluxApps.FluxAppAttribute";
        public const string ClusterAttributeMetadataName = "FluxApps.FluxClusterAttribute";
        public const string OptionsParameterName = "options";
        public const string CancellationParameterName = "cancellationToken";

        /// <summary>The stub's name for an app method.</summary>
        public static string StubName(IMethodSymbol method) => method.Name + "Async";

        /// <summary>Checks the method; <paramref name="cluster"/> (may be null) enables FLUX011.</summary>
        public static List<FluxAppProblem> Validate(IMethodSymbol method, AttributeData attribute, AttributeData? cluster, CancellationToken cancellationToken)
        {
            var problems = new List<FluxAppProblem>();
            Location methodLocation = method.Locations.FirstOrDefault() ?? Location.None;

            if (!method.IsStatic)
                problems.Add(new FluxAppProblem("FLUX001", methodLocation,
                    $"[FluxApp] method '{method.Name}' is not static: an app runs in another process, without an instance; make it static"));

            if (method.IsGenericMethod)
                problems.Add(new FluxAppProblem("FLUX007", methodLocation,
                    $"[FluxApp] method '{method.Name}' is generic: the job must know the exact types of its arguments; use concrete types"));
            for (var t = method.ContainingType; t is not null; t = t.ContainingType)
            {
                if (t.IsGenericType)
                {
                    problems.Add(new FluxAppProblem("FLUX007", methodLocation,
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
                        string role = SymbolEqualityComparer.Default.Equals(t, method.ContainingType) ? "containing type" : "enclosing type";
                        problems.Add(new FluxAppProblem("FLUX002", declaration.Identifier.GetLocation(),
                            $"The {role} '{t.Name}' of [FluxApp] method '{method.Name}' is not partial: the generated stub '{StubName(method)}' is added to it; declare it partial"));
                    }
                }
                if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
                    problems.Add(new FluxAppProblem("FLUX020", methodLocation,
                        $"[FluxApp] method '{method.Name}' is inside '{t.Name}', which is {AccessibilityText(t.DeclaredAccessibility)}: the generated worker entry point cannot reach it; make the type internal or public"));
            }

            CheckResources(method, attribute, cluster, problems, cancellationToken);
            CheckSignature(method, problems, cancellationToken);
            CheckStubCollision(method, problems);
            return problems;
        }

        private static string AccessibilityText(Accessibility accessibility) => accessibility switch
        {
            Accessibility.Private => "private",
            Accessibility.Protected => "protected",
            Accessibility.ProtectedAndInternal => "private protected",
            _ => accessibility.ToString().ToLowerInvariant(),
        };

        private static void CheckResources(IMethodSymbol method, AttributeData attribute, AttributeData? cluster, List<FluxAppProblem> problems, CancellationToken cancellationToken)
        {
            var r = FluxAppResources.Read(attribute);
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            Location Where(string name)
            {
                var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
                return argument?.GetLocation() ?? syntax?.GetLocation() ?? method.Locations.FirstOrDefault() ?? Location.None;
            }
            void Add(string id, string property, string? message)
            {
                if (message is not null) problems.Add(new FluxAppProblem(id, Where(property), message));
            }

            Add("FLUX003", "Cpus", FluxAppRules.CheckCpus(r.Cpus));
            Add("FLUX003", "Gpus", FluxAppRules.CheckGpus(r.Gpus));
            Add("FLUX003", "MpiRanks", FluxAppRules.CheckMpiRanks(r.MpiRanks));
            Add("FLUX003", "Nodes", FluxAppRules.CheckNodes(r.Nodes));
            Add("FLUX003", "Urgency", FluxAppRules.CheckUrgency(r.Urgency));
            Add("FLUX004", "Nodes", FluxAppRules.CheckNodesVersusRanks(r.Nodes, r.MpiRanks));
            Add("FLUX008", "TimeLimit", FluxAppRules.CheckTimeLimit(r.TimeLimit));
            Add("FLUX010", "Exclusive", FluxAppRules.CheckExclusive(r.Exclusive, r.Nodes));
            if (cluster is not null)
            {
                int nodes = 0, cores = 0, gpus = -1;
                foreach (var pair in cluster.NamedArguments)
                {
                    if (pair.Value.Value is not int v) continue;
                    if (pair.Key == "Nodes") nodes = v;
                    else if (pair.Key == "CoresPerNode") cores = v;
                    else if (pair.Key == "GpusPerNode") gpus = v;
                }
                string? fit = FluxAppRules.CheckClusterFit(r.Cpus, r.Gpus, r.MpiRanks, r.Nodes, nodes, cores, gpus);
                if (fit is not null)
                {
                    string property = fit.StartsWith("Gpus", StringComparison.Ordinal) ? "Gpus"
                        : fit.StartsWith("Cpus", StringComparison.Ordinal) ? "Cpus"
                        : fit.StartsWith("Nodes", StringComparison.Ordinal) ? "Nodes" : "MpiRanks";
                    if (!(syntax?.ArgumentList?.Arguments.Any(a => a.NameEquals?.Name.Identifier.ValueText == property) ?? false))
                        property = "Cpus";
                    problems.Add(new FluxAppProblem("FLUX011", Where(property), $"[FluxApp] '{method.Name}' cannot fit the declared cluster: {fit}"));
                }
            }
        }

        private static void CheckSignature(IMethodSymbol method, List<FluxAppProblem> problems, CancellationToken cancellationToken)
        {
            var builder = new TypeShapeBuilder();
            foreach (var parameter in method.Parameters)
            {
                cancellationToken.ThrowIfCancellationRequested();
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
                if (unsupported is null && parameter.IsParams) unsupported = "is a params parameter";
                if (unsupported is null && parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer) unsupported = $"is a pointer ({Display(parameter.Type)})";
                if (unsupported is null && parameter.Type.IsRefLikeType) unsupported = $"is a ref struct ({Display(parameter.Type)}) that cannot leave the stack; use an array";
                if (unsupported is null && parameter.Type.TypeKind == TypeKind.Delegate) unsupported = $"is a delegate ({Display(parameter.Type)}): code cannot travel to a job";
                if (unsupported is not null)
                {
                    problems.Add(new FluxAppProblem("FLUX005", where,
                        $"Parameter '{parameter.Name}' of [FluxApp] method '{method.Name}' {unsupported}: app arguments are copied to the job, so only plain values are allowed"));
                    continue;
                }
                string? error = builder.Add(parameter.Type);
                if (error is not null)
                    problems.Add(new FluxAppProblem("FLUX006", where,
                        $"Parameter '{parameter.Name}' of [FluxApp] method '{method.Name}' cannot be serialized: {error}"));
            }

            ITypeSymbol? result = ResultType(method.ReturnType, out _);
            if (result is not null)
            {
                string? error = builder.Add(result);
                if (error is not null)
                {
                    Location where = method.Locations.FirstOrDefault() ?? Location.None;
                    if (method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax md)
                        where = md.ReturnType.GetLocation();
                    problems.Add(new FluxAppProblem("FLUX006", where,
                        $"The return type of [FluxApp] method '{method.Name}' cannot be serialized: {error}"));
                }
            }
            if (method.ReturnsByRef || method.ReturnsByRefReadonly)
                problems.Add(new FluxAppProblem("FLUX006", method.Locations.FirstOrDefault() ?? Location.None,
                    $"[FluxApp] method '{method.Name}' returns by reference: a job can only return a value"));
        }

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
            kind = ReturnKind.Value;
            return returnType;
        }

        private static void CheckStubCollision(IMethodSymbol method, List<FluxAppProblem> problems)
        {
            string stub = StubName(method);
            Location where = method.Locations.FirstOrDefault() ?? Location.None;
            foreach (var member in method.ContainingType.GetMembers(stub))
            {
                if (member.IsImplicitlyDeclared || IsGeneratedByFluxApps(member)) continue;
                if (member is IMethodSymbol other && !LeadingParametersMatch(other, method)) continue; // a distinct overload
                problems.Add(new FluxAppProblem("FLUX009", where,
                    $"The stub '{stub}' of [FluxApp] method '{method.Name}' collides with the existing member '{member.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}'; rename the method or the member"));
                return;
            }
            foreach (var parameter in method.Parameters)
            {
                if (parameter.Name.StartsWith("__flux", StringComparison.Ordinal))
                    problems.Add(new FluxAppProblem("FLUX009", parameter.Locations.FirstOrDefault() ?? where,
                        $"Parameter name '{parameter.Name}' of [FluxApp] method '{method.Name}' is reserved for generated code (names starting with __flux); rename it"));
            }
        }

        /// <summary>A method whose parameters start with the app's parameter types would make the stub ambiguous or unreachable.</summary>
        private static bool LeadingParametersMatch(IMethodSymbol other, IMethodSymbol app)
        {
            if (other.Parameters.Length < app.Parameters.Length) return false;
            for (int i = 0; i < app.Parameters.Length; i++)
            {
                if (!SymbolEqualityComparer.Default.Equals(other.Parameters[i].Type.WithNullableAnnotation(NullableAnnotation.None),
                        app.Parameters[i].Type.WithNullableAnnotation(NullableAnnotation.None)))
                    return false;
            }
            return true;
        }

        /// <summary>True for members the FluxApps generator emitted (the analyzers see them in the compilation).</summary>
        public static bool IsGeneratedByFluxApps(ISymbol member) =>
            member.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.CodeDom.Compiler.GeneratedCodeAttribute"
                && a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value as string == GeneratorName);

        /// <summary>The tool name in the generated code's [GeneratedCode] attributes.</summary>
        public const string GeneratorName = "FluxApps.Generators";

        private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
    }

    /// <summary>How an app method returns.</summary>
    internal enum ReturnKind
    {
        Void,
        Task,
        ValueTask,
        Value,
        TaskOfT,
        ValueTaskOfT,
    }
}
