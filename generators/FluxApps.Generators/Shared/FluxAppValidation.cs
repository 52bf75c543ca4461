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
        public FluxAppProblem(string id, Location location, string message, bool reportedElsewhere = false)
        {
            Id = id;
            Location = location;
            Message = message;
            ReportedElsewhere = reportedElsewhere;
        }

        public string Id { get; }
        public Location Location { get; }
        public string Message { get; }

        /// <summary>
        /// True when the compiler already reports the cause (a type that does not exist yet, while
        /// the user is typing): the generator still skips the method, the analyzers stay silent
        /// rather than add a second error on top.
        /// </summary>
        public bool ReportedElsewhere { get; }

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
        public int Retries;
        public bool RetryOnAppException;
        public bool Cache;

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
                    case "Retries" when value is int i: r.Retries = i; break;
                    case "RetryOnAppException" when value is bool b: r.RetryOnAppException = b; break;
                    case "Cache" when value is bool b: r.Cache = b; break;
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

            // Nothing else matters for a method the generator cannot stub and call: say only that.
            string? notCallable = WhyNotAnAppMethod(method);
            if (notCallable is not null)
            {
                Location attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? methodLocation;
                problems.Add(new FluxAppProblem("FLUX021", attributeLocation, notCallable));
                return problems;
            }

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
                        string why = SymbolEqualityComparer.Default.Equals(t, method.ContainingType)
                            ? $"the generated stub '{StubName(method)}' of [FluxApp] method '{method.Name}' must be added to it"
                            : $"it encloses [FluxApp] method '{method.Name}', whose generated stub '{StubName(method)}' can only be added by reopening it";
                        problems.Add(new FluxAppProblem("FLUX002", declaration.Identifier.GetLocation(),
                            $"Type '{t.Name}' is not partial, but {why}; declare it partial"));
                    }
                }
                if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
                    problems.Add(new FluxAppProblem("FLUX020", methodLocation,
                        $"[FluxApp] method '{method.Name}' is inside '{t.Name}', which is {AccessibilityText(t.DeclaredAccessibility)}: the generated worker entry point cannot reach it; make the type internal or public"));
                else if (t.IsFileLocal)
                    problems.Add(new FluxAppProblem("FLUX020", methodLocation,
                        $"[FluxApp] method '{method.Name}' is inside '{t.Name}', which is a file-local type: the generated stub and worker entry point live in other files and cannot reach it; remove the 'file' modifier"));
            }

            CheckResources(method, attribute, cluster, problems, cancellationToken);
            CheckSignature(method, problems, cancellationToken);
            CheckStubCollision(method, problems);
            return problems;
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

        /// <summary>The shape of the machine declared by [assembly: FluxCluster]: 0 nodes or cores and -1 GPUs mean unknown.</summary>
        public static void ReadCluster(AttributeData cluster, out int nodes, out int coresPerNode, out int gpusPerNode)
        {
            nodes = 0;
            coresPerNode = 0;
            gpusPerNode = -1;
            foreach (var pair in cluster.NamedArguments)
            {
                if (pair.Value.Value is not int v) continue;
                if (pair.Key == "Nodes") nodes = v;
                else if (pair.Key == "CoresPerNode") coresPerNode = v;
                else if (pair.Key == "GpusPerNode") gpusPerNode = v;
            }
        }

        private static void CheckResources(IMethodSymbol method, AttributeData attribute, AttributeData? cluster, List<FluxAppProblem> problems, CancellationToken cancellationToken)
        {
            var r = FluxAppResources.Read(attribute);
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            AttributeArgumentSyntax? Argument(string name) =>
                syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
            Location Where(string name) =>
                Argument(name)?.GetLocation() ?? syntax?.GetLocation() ?? method.Locations.FirstOrDefault() ?? Location.None;
            void Add(string id, string property, string? message)
            {
                if (message is not null) problems.Add(new FluxAppProblem(id, Where(property), message));
            }

            Add("FLUX003", "Cpus", FluxAppRules.CheckCpus(r.Cpus));
            Add("FLUX003", "Gpus", FluxAppRules.CheckGpus(r.Gpus));
            Add("FLUX003", "MpiRanks", FluxAppRules.CheckMpiRanks(r.MpiRanks));
            Add("FLUX003", "Nodes", FluxAppRules.CheckNodes(r.Nodes));
            Add("FLUX003", "Urgency", FluxAppRules.CheckUrgency(r.Urgency));
            Add("FLUX003", "Retries", FluxAppRules.CheckRetries(r.Retries));
            Add("FLUX004", "Nodes", FluxAppRules.CheckNodesVersusRanks(r.Nodes, r.MpiRanks));
            Add("FLUX008", "TimeLimit", FluxAppRules.CheckTimeLimit(r.TimeLimit));
            // A negative node count is FLUX003's; fixing it settles Exclusive too, so no second error.
            if (r.Nodes >= 0) Add("FLUX010", "Exclusive", FluxAppRules.CheckExclusive(r.Exclusive, r.Nodes));
            Add("FLUX022", "Name", FluxAppRules.CheckName(r.Name));
            Add("FLUX022", "Queue", FluxAppRules.CheckQueue(r.Queue));
            if (cluster is not null)
            {
                ReadCluster(cluster, out int nodes, out int cores, out int gpus);
                string? fit = FluxAppRules.CheckClusterFit(r.Cpus, r.Gpus, r.MpiRanks, r.Nodes, nodes, cores, gpus, out string[] blamed);
                if (fit is not null)
                {
                    // On the first blamed property the user wrote; on the attribute when all are defaults.
                    string property = blamed.FirstOrDefault(p => Argument(p) is not null) ?? "";
                    problems.Add(new FluxAppProblem("FLUX011", Where(property), $"[FluxApp] method '{method.Name}' cannot fit the declared cluster: {fit}"));
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
                string? error = WithoutRepeatedPath(builder.Add(parameter.Type), parameter.Type) ?? WhyStateIsLost(builder, parameter.Type);
                if (error is not null)
                    problems.Add(new FluxAppProblem("FLUX006", where,
                        $"Parameter '{parameter.Name}' of [FluxApp] method '{method.Name}' cannot be serialized: {error}",
                        reportedElsewhere: ContainsUnknownType(parameter.Type)));
            }

            Location returnTypeLocation = method.Locations.FirstOrDefault() ?? Location.None;
            if (method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax md)
                returnTypeLocation = md.ReturnType.GetLocation();
            ITypeSymbol? result = ResultType(method.ReturnType, out _);
            if (result is not null)
            {
                string? error = WithoutRepeatedPath(builder.Add(result), result) ?? WhyStateIsLost(builder, result);
                if (error is not null)
                    problems.Add(new FluxAppProblem("FLUX006", returnTypeLocation,
                        $"The return type of [FluxApp] method '{method.Name}' cannot be serialized: {error}",
                        reportedElsewhere: ContainsUnknownType(result)));
            }
            if (method.IsAsync && method.ReturnsVoid)
                problems.Add(new FluxAppProblem("FLUX006", returnTypeLocation,
                    $"[FluxApp] method '{method.Name}' is async void: the job cannot wait for it to finish or see its exceptions; return Task"));
            if (method.ReturnsByRef || method.ReturnsByRefReadonly)
                problems.Add(new FluxAppProblem("FLUX006", method.Locations.FirstOrDefault() ?? Location.None,
                    $"[FluxApp] method '{method.Name}' returns by reference: a job can only return a value"));
        }

        /// <summary>
        /// The serializers rebuild an object from the members its shape lists: public properties and
        /// fields that can be set, or that match a constructor parameter. A type whose state lives
        /// elsewhere would arrive empty, without any error: a BigInteger as 0, a ReadOnlyMemory as
        /// empty, a class with <c>{ get; private set; }</c> with defaults. This finds such a type among
        /// the object shapes <paramref name="type"/> needs; null when every one of them travels whole.
        /// </summary>
        private static string? WhyStateIsLost(TypeShapeBuilder builder, ITypeSymbol type)
        {
            var shapes = new Dictionary<string, TypeShape>(StringComparer.Ordinal);
            foreach (var shape in builder.Shapes) shapes[shape.Key] = shape;

            // The types the value is made of, as the shapes are: through elements, type arguments and object members.
            var reachable = new Dictionary<string, ITypeSymbol>(StringComparer.Ordinal);
            var pending = new Stack<ITypeSymbol>();
            pending.Push(type);
            while (pending.Count > 0)
            {
                var current = pending.Pop();
                string key = TypeShapeBuilder.KeyOf(current);
                if (reachable.ContainsKey(key) || !shapes.TryGetValue(key, out var shape)) continue;
                reachable.Add(key, current);
                if (current is IArrayTypeSymbol array) pending.Push(array.ElementType);
                if (current is not INamedTypeSymbol named) continue;
                foreach (var argument in named.TypeArguments) pending.Push(argument);
                if (shape.Kind != ShapeKind.Object) continue;
                foreach (var member in InstanceMembers(named))
                {
                    if (member is IPropertySymbol property) pending.Push(property.Type);
                    else if (member is IFieldSymbol field) pending.Push(field.Type);
                }
            }

            foreach (var pair in reachable)
            {
                if (pair.Value is not INamedTypeSymbol named || named.IsTupleType || shapes[pair.Key].Kind != ShapeKind.Object) continue;
                var carried = new HashSet<string>(shapes[pair.Key].Members.Select(m => m.Name), StringComparer.Ordinal);
                var members = InstanceMembers(named).ToList();
                string name = Display(named);
                if (named.Locations.Any(l => l.IsInSource))
                {
                    // Auto-properties show where state is; computed properties and explicit fields set from
                    // constructor parameters may rebuild it, so only the former are judged one by one.
                    foreach (var field in members.OfType<IFieldSymbol>())
                    {
                        if (field.AssociatedSymbol is IPropertySymbol { DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } property
                            && !carried.Contains(property.Name))
                            return $"{name}.{property.Name} can be read but has no public setter and no constructor parameter of that name, so its value would be lost on the way; make it {{ get; set; }} or {{ get; init; }}, or add a constructor parameter '{CamelCase(property.Name)}'";
                        if (field.AssociatedSymbol is null && field.DeclaredAccessibility == Accessibility.Public && !carried.Contains(field.Name))
                            return $"{name}.{field.Name} is a readonly field that no constructor parameter sets, so its value would be lost on the way; remove 'readonly', or add a constructor parameter '{CamelCase(field.Name)}'";
                    }
                    if (carried.Count == 0 && members.OfType<IFieldSymbol>().Any())
                        return $"{name} keeps its state in non-public fields, which FluxApps cannot carry: it would arrive empty; expose the data as public properties or use a record";
                }
                else if (carried.Count == 0 && members.Any(m => m.DeclaredAccessibility == Accessibility.Public && m is IPropertySymbol { IsIndexer: false } or IFieldSymbol))
                {
                    return $"{name} has no public property or field that can be set or passed to its constructor: FluxApps cannot rebuild it, and it would arrive as an empty value; pass the data it holds instead (for example an array or a string)";
                }
            }
            return null;
        }

        private static string CamelCase(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name.Substring(1);

        /// <summary>The instance fields and properties of a type and its base types (not object or ValueType).</summary>
        private static IEnumerable<ISymbol> InstanceMembers(INamedTypeSymbol type)
        {
            for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
            {
                foreach (var member in t.GetMembers())
                {
                    if (member.IsStatic) continue;
                    if (member is IFieldSymbol { IsConst: false } or IPropertySymbol) yield return member;
                }
            }
        }

        /// <summary>"Stream: Stream is a stream, ..." reads "Stream is a stream, ...": the path adds nothing when the reason starts with it.</summary>
        private static string? WithoutRepeatedPath(string? error, ITypeSymbol type)
        {
            if (error is null) return null;
            string path = Display(type);
            return error.StartsWith(path + ": " + path + " ", StringComparison.Ordinal) ? error.Substring(path.Length + 2) : error;
        }

        /// <summary>
        /// True when <paramref name="type"/>, its type arguments, elements or the public members of its
        /// source-declared types mention a type that does not exist (yet): the compiler reports that.
        /// </summary>
        private static bool ContainsUnknownType(ITypeSymbol type)
        {
            var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
            var pending = new Stack<ITypeSymbol>();
            pending.Push(type);
            while (pending.Count > 0)
            {
                var current = pending.Pop();
                if (!seen.Add(current)) continue;
                switch (current)
                {
                    case { TypeKind: TypeKind.Error }:
                        return true;
                    case IArrayTypeSymbol array:
                        pending.Push(array.ElementType);
                        break;
                    case IPointerTypeSymbol pointer:
                        pending.Push(pointer.PointedAtType);
                        break;
                    case INamedTypeSymbol named:
                        foreach (var argument in named.TypeArguments) pending.Push(argument);
                        if (!named.Locations.Any(l => l.IsInSource)) break; // metadata types are complete
                        foreach (var member in named.GetMembers())
                        {
                            if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public) continue;
                            if (member is IPropertySymbol property) pending.Push(property.Type);
                            else if (member is IFieldSymbol field) pending.Push(field.Type);
                        }
                        if (named.BaseType is not null) pending.Push(named.BaseType);
                        break;
                }
            }
            return false;
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
            if (definition == "global::FluxApps.FluxCommand")
            {
                kind = ReturnKind.Command; // runs as the job's tasks itself: nothing comes back to deserialize
                return null;
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
        /// <summary>Returns a FluxCommand: a command app.</summary>
        Command,
    }
}
