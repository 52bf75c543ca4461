using System;
using System.IO;
using System.Text;
using System.Threading;

namespace FluxApps.Worker;

/// <summary>
/// Keeps what each pooled call writes to <see cref="Console.Error"/> with that call: the worker's stderr still gets
/// every line (its log), and the call's own last lines travel back with its answer (the stderr tail of its
/// exception). Output written below .NET's <see cref="Console"/> (native code, child processes, <c>stdout</c>)
/// reaches only the worker's own files: one process has one pair of file descriptors.
/// </summary>
internal static class CallConsole
{
    /// <summary>Characters of a call's stderr kept for its answer.</summary>
    public const int TailLength = 4096;

    private static readonly AsyncLocal<StringBuilder?> s_current = new();

    /// <summary>Routes <see cref="Console.Error"/> through the per-call capture (once per process).</summary>
    public static void Install() => Console.SetError(new CapturingWriter(Console.Error));

    /// <summary>Starts capturing the current call's stderr (the flow that runs the call).</summary>
    public static StringBuilder Begin()
    {
        var buffer = new StringBuilder();
        s_current.Value = buffer;
        return buffer;
    }

    /// <summary>Stops capturing and returns the call's last <see cref="TailLength"/> characters.</summary>
    public static string End(StringBuilder buffer)
    {
        s_current.Value = null;
        lock (buffer) return buffer.ToString();
    }

    private sealed class CapturingWriter(TextWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            inner.Write(value);
            Keep(new ReadOnlySpan<char>(in value));
        }

        public override void Write(string? value)
        {
            inner.Write(value);
            Keep(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            inner.Write(buffer, index, count);
            Keep(buffer.AsSpan(index, count));
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            inner.Write(buffer);
            Keep(buffer);
        }

        public override void WriteLine(string? value)
        {
            inner.WriteLine(value);
            Keep(value);
            Keep(CoreNewLine);
        }

        public override void Flush() => inner.Flush();

        private static void Keep(ReadOnlySpan<char> text)
        {
            if (s_current.Value is not { } buffer || text.IsEmpty) return;
            lock (buffer)
            {
                buffer.Append(text);
                if (buffer.Length > TailLength) buffer.Remove(0, buffer.Length - TailLength);
            }
        }
    }
}
