using System;
using System.IO;

namespace FluxApps.Runtime;

/// <summary>
/// The end of a job's stderr file, carried by <see cref="FluxJobException.StderrTail"/>: whoever reports a failure
/// (a backend for a job that ended early, the outcome reader for one that ended without a result) reads it here.
/// </summary>
internal static class StderrTail
{
    /// <summary>The last lines of the file at <paramref name="path"/> (at most <paramref name="maxBytes"/>), or empty.</summary>
    public static string Read(string path, int maxBytes = 4096)
    {
        try
        {
            if (!File.Exists(path)) return "";
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long start = Math.Max(0, fs.Length - maxBytes);
            fs.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(fs);
            string text = reader.ReadToEnd();
            if (start > 0)
            {
                // The cut fell inside a line: start at the next whole one.
                int nl = text.IndexOf('\n');
                if (nl >= 0) text = text[(nl + 1)..];
            }
            return text;
        }
        catch (IOException)
        {
            return "";
        }
    }
}
