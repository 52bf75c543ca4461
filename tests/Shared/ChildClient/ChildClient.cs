using System.Diagnostics;

namespace FluxApps.Tests.Shared;

/// <summary>Starts tests/FluxApps.ChildClient, a client program a test can kill with SIGKILL (its modes: its Program.cs).</summary>
internal static class ChildClient
{
    /// <summary>The built program: tests/&lt;this test project&gt;/bin/&lt;configuration&gt;/&lt;tfm&gt;/ -> tests/FluxApps.ChildClient/bin/&lt;configuration&gt;/&lt;tfm&gt;/.</summary>
    public static string Program
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string tfm = here.Name, configuration = here.Parent!.Name;
            string tests = here.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(tests, "FluxApps.ChildClient", "bin", configuration, tfm, "FluxApps.ChildClient.dll");
        }
    }

    /// <summary>Starts it with <paramref name="args"/>, its output redirected.</summary>
    public static Process Start(params string[] args)
    {
        Assert.True(File.Exists(Program), $"{Program} is not built");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Program);
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>Reads its output up to the first line that starts with <paramref name="prefix"/>, and returns it.</summary>
    public static async Task<string> WaitForLine(Process child, string prefix, TimeSpan within)
    {
        while (await child.StandardOutput.ReadLineAsync().WaitAsync(within) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
        }
        Assert.Fail($"the child client ended without a line starting with \"{prefix}\": {await child.StandardError.ReadToEndAsync()}");
        return "";
    }
}
