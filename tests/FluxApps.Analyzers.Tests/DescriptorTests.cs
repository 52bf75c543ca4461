using System;
using System.IO;
using System.Linq;
using FluxApps.Generators;
using Microsoft.CodeAnalysis;
using Xunit;

namespace FluxApps.Analyzers.Tests;

/// <summary>Every diagnostic has its page, its release entry, and the severity the design fixes.</summary>
public class DescriptorTests
{
    private static readonly string s_root = FindRepositoryRoot();

    public static TheoryData<string> Ids() => new(FluxDiagnostics.All.Select(d => d.Id).Order(StringComparer.Ordinal));

    [Fact]
    public void TheDesignsIds_AreAllThere() =>
        Assert.Equal(Enumerable.Range(1, 11).Select(i => $"FLUX{i:000}"), FluxDiagnostics.All.Select(d => d.Id).Where(id => string.CompareOrdinal(id, "FLUX020") < 0).Order());

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_IsAnErrorWithATitleAndAHelpPage(string id)
    {
        var descriptor = FluxDiagnostics.All.Single(d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
        Assert.True(descriptor.IsEnabledByDefault);
        Assert.False(string.IsNullOrWhiteSpace(descriptor.Title.ToString()));
        Assert.False(string.IsNullOrWhiteSpace(descriptor.Description.ToString()));
        Assert.Equal($"https://github.com/fluxapps/fluxapps/blob/main/docs/diagnostics/{id}.md", descriptor.HelpLinkUri);

        string page = Path.Combine(s_root, "docs", "diagnostics", id + ".md");
        Assert.True(File.Exists(page), $"{page} is missing");
        string text = File.ReadAllText(page);
        Assert.StartsWith($"# {id}: ", text);
        foreach (string section in new[] { "## What", "## Why", "## How to fix" })
            Assert.Contains(section, text);
        Assert.Contains("```csharp", text);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Id_IsInTheIndexAndTheReleaseNotes(string id)
    {
        Assert.Contains($"[{id}]({id}.md)", File.ReadAllText(Path.Combine(s_root, "docs", "diagnostics", "README.md")));
        string releases = File.ReadAllText(Path.Combine(s_root, "analyzers", "FluxApps.Analyzers", "AnalyzerReleases.Unshipped.md"))
            + File.ReadAllText(Path.Combine(s_root, "analyzers", "FluxApps.Analyzers", "AnalyzerReleases.Shipped.md"));
        Assert.Contains($"{id} | {FluxDiagnostics.Category} | Error |", releases);
    }

    [Fact]
    public void EveryPage_BelongsToADiagnostic()
    {
        var pages = Directory.GetFiles(Path.Combine(s_root, "docs", "diagnostics"), "FLUX*.md").Select(Path.GetFileNameWithoutExtension);
        Assert.All(pages, page => Assert.Contains(page!, FluxDiagnostics.All.Select(d => d.Id)));
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props"))) return dir.FullName;
        }
        throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
