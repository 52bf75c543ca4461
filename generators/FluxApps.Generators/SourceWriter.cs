using System;
using System.Text;

namespace FluxApps.Generators;

/// <summary>
/// Writes C# line by line at the current indentation, in the manner of System.Text.Json's SourceWriter
/// and CommunityToolkit's IndentedTextWriter.WriteBlock: a block closes its own brace when disposed,
/// <c>using (writer.Block("partial class C")) { ... }</c>, so braces cannot be left unpaired, and blank
/// lines carry no indentation, so the text needs no clean-up afterwards.
/// </summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";

    private readonly StringBuilder _text = new();
    private int _depth;

    /// <summary>An empty line, without indentation.</summary>
    public void WriteLine() => _text.Append('\n');

    /// <summary>One line at the current indentation.</summary>
    public void WriteLine(string line)
    {
        for (int i = 0; i < _depth; i++) _text.Append(IndentUnit);
        _text.Append(line).Append('\n');
    }

    /// <summary>
    /// Writes <paramref name="header"/> (when given) and an opening brace, and indents what follows until
    /// the returned scope is disposed, which writes <paramref name="closing"/> (<c>"};"</c> after an initializer).
    /// </summary>
    public Scope Block(string? header = null, string closing = "}")
    {
        if (header is not null) WriteLine(header);
        WriteLine("{");
        _depth++;
        return new Scope(this, closing);
    }

    /// <summary>Indents what follows one level, without braces, until the returned scope is disposed (continuation lines).</summary>
    public Scope Indent()
    {
        _depth++;
        return new Scope(this, closing: null);
    }

    public override string ToString() => _text.ToString();

    /// <summary>The end of a <see cref="Block"/> or <see cref="Indent"/>: dedents, then writes the closing text, if any.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly SourceWriter _writer;
        private readonly string? _closing;

        internal Scope(SourceWriter writer, string? closing)
        {
            _writer = writer;
            _closing = closing;
        }

        public void Dispose()
        {
            _writer._depth--;
            if (_closing is not null) _writer.WriteLine(_closing);
        }
    }
}
