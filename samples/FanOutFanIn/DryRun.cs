using System.Linq;
using FluxApps;

/// <summary>The calls <c>--dry-run</c> shows for this sample (the option itself: samples/Shared/DryRun.cs).</summary>
internal static partial class DryRun
{
    /// <summary>This sample's calls: the first chunk's (the others are alike) and the merge, whose arguments are the chunks' results.</summary>
    public static int Describe(string format, double[] data, int chunks)
    {
        int chunkSize = (data.Length + chunks - 1) / chunks;
        var firstChunk = data.Take(chunkSize).ToArray();
        var summaries = Enumerable.Range(0, chunks).Select(i => new Summary(i, 0, 0, 0, 0, 0, "")).ToArray();
        Print(format, () =>
        {
            Statistics.SummarizeAsync(0, firstChunk);
            Statistics.MergeAsync(summaries);
        }, $"the other {chunks - 1} Statistics.Summarize call(s) are jobs like the first: only their chunk and call directory differ");
        return 0;
    }
}
