using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators;

public sealed partial class FluxAppGenerator
{
    /// <summary>
    /// Symbols to <see cref="AppSpec"/>. Returns null for every method with a problem the
    /// analyzers report (and for half-typed code), so no code is emitted on top of an error.
    /// The model holds no symbol, syntax node, location or compilation, so it caches.
    /// </summary>
    internal static class Parser
    {
        private static readonly SymbolDisplayFormat s_annotatedFormat = TypeShapeBuilder.KeyFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        public static AppSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0) return null;
            if (method.ContainingType is null || method.MethodKind != MethodKind.Ordinary) return null;
            var attribute = context.Attributes[0];
            // FLUX011 (cluster fit) is left to the analyzers: it depends on an assembly attribute
            // elsewhere, and a request too big for the declared machine still compiles cleanly.
            var validation = FluxAppValidation.Validate(method, attribute, cluster: null, cancellationToken);
            if (validation.HasProblems) return null;

            // Validation built the shape of every parameter and result type while checking them: a method
            // without problems has them all, so the types are not walked a second time here.
            var shapes = validation.TypeShapes.OrderBy(s => s.Key, StringComparer.Ordinal).ToEquatableArray();
            // A trailing CancellationToken is the call's own token: not an argument, the stub does not repeat it.
            bool takesToken = FluxAppValidation.TakesCancellationToken(method);
            var parameters = method.Parameters
                .Take(FluxAppValidation.ArgumentCount(method))
                .Select(p => new ParameterSpec(Escape(p.Name), p.Type.ToDisplayString(s_annotatedFormat), TypeShapeBuilder.KeyOf(p.Type), DefaultValue(p)))
                .ToEquatableArray();
            ITypeSymbol? result = FluxAppValidation.ResultType(method.ReturnType, out ReturnKind returnKind);

            var hierarchy = new List<ContainingTypeInfo>();
            for (var t = method.ContainingType; t is not null; t = t.ContainingType)
                hierarchy.Insert(0, new ContainingTypeInfo(Keyword(t), Escape(t.Name)));

            var r = FluxAppResources.Read(attribute);
            string containing = method.ContainingType.ToDisplayString(TypeShapeBuilder.KeyFormat);
            string appId = method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "." + method.Name
                + "(" + string.Join(", ", method.Parameters.Select(p => TypeShapeBuilder.KeyOf(p.Type).Replace("global::", ""))) + ")";
            string displayName = string.Join(".", hierarchy.Select(h => h.Name.TrimStart('@'))) + "." + method.Name;
            var names = new HashSet<string>(method.Parameters.Select(p => p.Name), StringComparer.Ordinal);

            return new AppSpec(
                Namespace: method.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "",
                Hierarchy: hierarchy.ToEquatableArray(),
                ContainingType: containing,
                MethodName: Escape(method.Name),
                Accessibility: AccessibilityText(method.DeclaredAccessibility),
                StubName: Escape(FluxAppValidation.StubName(method)),
                OptionsName: FreeName(FluxAppValidation.OptionsParameterName, names),
                CancellationName: FreeName(FluxAppValidation.CancellationParameterName, names),
                Parameters: parameters,
                TakesCancellationToken: takesToken,
                ReturnKind: returnKind,
                ResultType: result?.ToDisplayString(s_annotatedFormat),
                ResultKey: result is null ? null : TypeShapeBuilder.KeyOf(result),
                AppId: appId,
                DisplayName: displayName,
                MemberSuffix: method.Name + "_" + Emitter.Hash(appId),
                Cpus: r.Cpus,
                Gpus: r.Gpus,
                MpiRanks: r.MpiRanks,
                Nodes: r.Nodes,
                Exclusive: r.Exclusive,
                TimeLimit: r.TimeLimit,
                Queue: r.Queue,
                Urgency: r.Urgency,
                Name: r.Name,
                Retries: r.Retries,
                RetryOnAppException: r.RetryOnAppException,
                Cache: r.Cache,
                Pool: string.IsNullOrEmpty(r.Pool) ? null : r.Pool,
                CodeHash: CodeHash.Of(method, returnKind, shapes, cancellationToken),
                Shapes: shapes);
        }

        /// <summary>A [FluxWorkerStartup] method the registry can call (FLUX024 finds no problem), or null.</summary>
        public static StartupSpec? ParseStartup(GeneratorAttributeSyntaxContext context)
        {
            if (context.TargetSymbol is not IMethodSymbol method || method.ContainingType is null) return null;
            if (FluxWorkerStartupValidation.Validate(method).Count > 0) return null;
            string type = method.ContainingType.ToDisplayString(TypeShapeBuilder.KeyFormat);
            string display = method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "." + method.Name;
            return new StartupSpec(type + "." + Escape(method.Name), display, FluxWorkerStartupValidation.StartupReturn(method)!);
        }

        /// <summary>"options" unless a parameter already has that name, then "fluxOptions", ...</summary>
        private static string FreeName(string preferred, HashSet<string> taken)
        {
            if (!taken.Contains(preferred)) return preferred;
            string candidate = "flux" + char.ToUpperInvariant(preferred[0]) + preferred.Substring(1);
            while (taken.Contains(candidate)) candidate = "_" + candidate;
            return candidate;
        }

        private static string Keyword(INamedTypeSymbol type) => type switch
        {
            { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
            { IsRecord: true } => "record",
            { TypeKind: TypeKind.Struct } => "struct",
            { TypeKind: TypeKind.Interface } => "interface",
            _ => "class",
        };

        internal static string Escape(string identifier) =>
            SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(identifier) is SyntaxKind.VarKeyword
                ? "@" + identifier
                : identifier;

        private static string AccessibilityText(Accessibility accessibility) => accessibility switch
        {
            Accessibility.Public => "public",
            Accessibility.Internal => "internal",
            Accessibility.Protected => "protected",
            Accessibility.ProtectedOrInternal => "protected internal",
            Accessibility.ProtectedAndInternal => "private protected",
            _ => "private",
        };

        private static string? DefaultValue(IParameterSymbol p)
        {
            if (!p.HasExplicitDefaultValue) return null;
            object? value = p.ExplicitDefaultValue;
            var type = p.Type;
            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            {
                if (value is null) return "null";
                type = nullable.TypeArguments[0];
            }
            if (value is null) return type.IsReferenceType ? "null" : "default";
            if (type.TypeKind == TypeKind.Enum)
                return "(" + TypeShapeBuilder.KeyOf(type) + ")(" + Convert.ToString(value, CultureInfo.InvariantCulture) + ")";
            switch (value)
            {
                case string s: return SymbolDisplay.FormatLiteral(s, quote: true);
                case char c: return SymbolDisplay.FormatLiteral(c, quote: true);
                case bool b: return b ? "true" : "false";
                case float f:
                    if (float.IsNaN(f)) return "float.NaN";
                    if (float.IsPositiveInfinity(f)) return "float.PositiveInfinity";
                    if (float.IsNegativeInfinity(f)) return "float.NegativeInfinity";
                    return f.ToString("R", CultureInfo.InvariantCulture) + "F";
                case double d:
                    if (double.IsNaN(d)) return "double.NaN";
                    if (double.IsPositiveInfinity(d)) return "double.PositiveInfinity";
                    if (double.IsNegativeInfinity(d)) return "double.NegativeInfinity";
                    return d.ToString("R", CultureInfo.InvariantCulture) + "D";
                case decimal m: return m.ToString(CultureInfo.InvariantCulture) + "M";
                case long l: return l.ToString(CultureInfo.InvariantCulture) + "L";
                case ulong ul: return ul.ToString(CultureInfo.InvariantCulture) + "UL";
                case uint ui: return ui.ToString(CultureInfo.InvariantCulture) + "U";
                default:
                    return "(" + TypeShapeBuilder.KeyOf(type) + ")(" + Convert.ToString(value, CultureInfo.InvariantCulture) + ")";
            }
        }
    }
}
