using FluxApps;

/// <summary>The calls <c>--dry-run</c> shows for this sample (the option itself: samples/Shared/DryRun.cs).</summary>
internal static partial class DryRun
{
    /// <summary>This sample's calls: one shown, since all of them are alike.</summary>
    public static void Describe(string format, int apps, long samplesPerApp) =>
        Print(format, () => MonteCarlo.CountHitsAsync(0, samplesPerApp),
            apps > 1 ? $"the other {apps - 1} call(s) are jobs like this one: only their arguments and call directories (c2, c3, ...) differ" : null);
}
