using System;
using System.Collections.Generic;
using FluxApps;

/// <summary>
/// <c>--dry-run</c>: print the jobspec of the calls the sample would make (RFC 25 JSON, or YAML with
/// <c>--dry-run=yaml</c> or <c>--yaml</c>) and submit nothing, like <c>flux submit --dry-run</c>. The jobspecs
/// go to standard output, one per call (YAML documents start with <c>---</c>); a summary of each call goes to
/// standard error. They leave out this process's environment, which each job also inherits.
/// Shared by the samples (each project compiles this file); a sample's own <c>DryRun</c> part, if any, says which calls it shows.
/// </summary>
internal static partial class DryRun
{
    /// <summary>Removes the dry-run options from <paramref name="args"/>: "json" or "yaml" when one was given, else null.</summary>
    public static string? Take(ref string[] args)
    {
        string? format = null;
        var rest = new List<string>();
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "--dry-run" or "--dry-run=json": format ??= "json"; break;
                case "--dry-run=yaml" or "--yaml": format = "yaml"; break;
                default:
                    if (arg.StartsWith("--dry-run=", StringComparison.Ordinal))
                        throw new ArgumentException($"{arg}: use --dry-run (JSON) or --dry-run=yaml.");
                    rest.Add(arg);
                    break;
            }
        }
        args = rest.ToArray();
        return format;
    }

    /// <summary>Describes the calls <paramref name="calls"/> makes (nothing is submitted) and prints their jobspecs.</summary>
    public static void Print(string format, Action calls, string? note = null)
    {
        var jobs = FluxDryRun.DescribeAll(calls, new FluxDryRunOptions { IncludeCallerEnvironment = false });
        Console.Error.WriteLine($"dry run, nothing submitted: {jobs.Count} call(s)");
        foreach (var job in jobs) Console.Error.WriteLine("  " + job);
        if (note is not null) Console.Error.WriteLine(note);
        foreach (var job in jobs)
        {
            if (format == "yaml") Console.Write("---\n" + job.ToYaml());
            else Console.WriteLine(job.ToJson());
        }
    }
}
