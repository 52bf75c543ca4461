using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators;

/// <summary>
/// Emits, for each valid [FluxApp] method, the async stub that submits it as a job and the
/// worker entry point that runs it inside the job; and, per assembly, the serializers of every
/// argument and result type and the registry the worker dispatches through, which also registers the
/// assembly's [FluxWorkerStartup] methods.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class FluxAppGenerator : IIncrementalGenerator
{
    /// <summary>Names of the tracked pipeline steps (for caching tests).</summary>
    internal static class TrackingNames
    {
        public const string Apps = nameof(Apps);
        public const string ValidApps = nameof(ValidApps);
        public const string AllApps = nameof(AllApps);
        public const string AssemblyName = nameof(AssemblyName);
        public const string Startups = nameof(Startups);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var apps = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                FluxAppValidation.AttributeMetadataName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Apps)
            .Where(static app => app is not null)
            .Select(static (app, _) => app!)
            .WithTrackingName(TrackingNames.ValidApps);

        var assemblyName = context.CompilationProvider
            .Select(static (c, _) => c.AssemblyName ?? "Assembly")
            .WithTrackingName(TrackingNames.AssemblyName);

        var startups = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                FluxWorkerStartupValidation.AttributeMetadataName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, _) => Parser.ParseStartup(ctx))
            .Where(static startup => startup is not null)
            .Select(static (startup, _) => startup!)
            .WithTrackingName(TrackingNames.Startups);

        var all = apps.Collect()
            .Select(static (list, _) => list.ToEquatableArray())
            .Combine(startups.Collect().Select(static (list, _) => list.ToEquatableArray()))
            .Combine(assemblyName)
            .WithTrackingName(TrackingNames.AllApps);

        context.RegisterSourceOutput(all, static (spc, input) => Emitter.Emit(spc, input.Left.Left, input.Left.Right, input.Right));
    }
}
