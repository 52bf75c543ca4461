using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace FluxApps.Runtime;

/// <summary>Where assemblies live on disk, for starting JIT workers with the caller's dependency context.</summary>
internal static class AssemblyPaths
{
    /// <summary>The file of <paramref name="assembly"/>, or empty in a single-file or NativeAOT program (whose workers re-run the program itself).</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty location selects the self-executing worker, which needs no path.")]
    public static string Of(Assembly? assembly) => assembly?.Location ?? "";
}
