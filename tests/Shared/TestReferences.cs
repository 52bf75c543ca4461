using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace FluxApps.Testing;

/// <summary>
/// What every test compilation references: the net10.0 reference pack installed with the SDK
/// (no download) and the FluxApps runtime, whose attributes and FluxCallOptions the code under test uses.
/// </summary>
internal static class TestReferences
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_all = new(Load);

    public static ImmutableArray<MetadataReference> All => s_all.Value;

    /// <summary>The directory of the reference assemblies the compilations are built against.</summary>
    public static string FrameworkDirectory { get; } = FindFrameworkDirectory();

    private static ImmutableArray<MetadataReference> Load() =>
        Directory.GetFiles(FrameworkDirectory, "*.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(FluxAppAttribute).Assembly.Location))
            .ToImmutableArray();

    /// <summary>
    /// dotnet/packs/Microsoft.NETCore.App.Ref/10.0.x/ref/net10.0, found from the running runtime's
    /// location; the runtime's own implementation assemblies when no reference pack is installed.
    /// </summary>
    private static string FindFrameworkDirectory()
    {
        string runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", ".."));
        string packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
        if (Directory.Exists(packs))
        {
            string? pack = Directory.GetDirectories(packs, "10.*")
                .Select(d => Path.Combine(d, "ref", "net10.0"))
                .Where(Directory.Exists)
                .OrderByDescending(d => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(d))), out var v) ? v : new Version())
                .FirstOrDefault();
            if (pack is not null) return pack;
        }
        return runtimeDirectory;
    }
}
