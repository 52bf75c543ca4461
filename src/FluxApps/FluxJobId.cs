using System;
using System.Globalization;

namespace FluxApps;

/// <summary>
/// A Flux job id (a 64-bit FLUID, RFC 19). Printed in F58 form (<c>ƒuZZybuNNy</c>); parses every
/// RFC 19 text form a user is likely to paste: F58 (with <c>ƒ</c> or <c>f</c>), decimal, hex and dothex.
/// </summary>
public readonly struct FluxJobId : IEquatable<FluxJobId>, IComparable<FluxJobId>, ISpanFormattable
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private const char F58Prefix = '\u0192';

    /// <summary>Creates a job id from its numeric value.</summary>
    public FluxJobId(ulong value) => Value = value;

    /// <summary>The numeric value of the id.</summary>
    public ulong Value { get; }

    /// <summary>The id in F58 form with the <c>ƒ</c> prefix, as Flux prints it.</summary>
    public override string ToString() => ToF58(asciiPrefix: false);

    /// <summary>
    /// Formats the id: <c>"f58"</c> or null (<c>ƒ</c> prefix), <c>"f"</c> (ASCII <c>f</c> prefix, safe in file names),
    /// <c>"d"</c> (decimal), <c>"x"</c> (hex with <c>0x</c>), <c>"dothex"</c>.
    /// </summary>
    public string ToString(string? format, IFormatProvider? formatProvider = null) => format switch
    {
        null or "" or "f58" => ToF58(false),
        "f" => ToF58(true),
        "d" or "D" => Value.ToString(CultureInfo.InvariantCulture),
        "x" or "X" => "0x" + Value.ToString("x", CultureInfo.InvariantCulture),
        "dothex" => ToDotHex(),
        _ => throw new FormatException($"Unknown FluxJobId format \"{format}\": use f58, f, d, x or dothex."),
    };

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        string text = ToString(format.Length == 0 ? null : format.ToString(), provider);
        if (text.Length > destination.Length) { charsWritten = 0; return false; }
        text.AsSpan().CopyTo(destination);
        charsWritten = text.Length;
        return true;
    }

    /// <summary>The F58 form; with <paramref name="asciiPrefix"/> the prefix is ASCII <c>f</c>.</summary>
    public string ToF58(bool asciiPrefix = false)
    {
        Span<char> digits = stackalloc char[12];
        int n = 0;
        ulong v = Value;
        do
        {
            digits[n++] = Alphabet[(int)(v % 58)];
            v /= 58;
        } while (v != 0);
        Span<char> result = stackalloc char[n + 1];
        result[0] = asciiPrefix ? 'f' : F58Prefix;
        for (int i = 0; i < n; i++) result[i + 1] = digits[n - 1 - i];
        return new string(result);
    }

    private string ToDotHex()
    {
        string hex = Value.ToString("x16", CultureInfo.InvariantCulture);
        return $"{hex[..4]}.{hex[4..8]}.{hex[8..12]}.{hex[12..]}";
    }

    /// <summary>Parses any RFC 19 form (F58, decimal, hex, dothex); throws <see cref="FormatException"/> naming the text.</summary>
    public static FluxJobId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"\"{text}\" is not a Flux job id (expected F58 like ƒuZZybuNNy, decimal, 0x-hex or dothex).");

    /// <summary>Parses any RFC 19 form (F58, decimal, hex, dothex).</summary>
    public static bool TryParse(string? text, out FluxJobId id)
    {
        id = default;
        if (text is null) return false;
        string s = text.Trim();
        if (s.Length == 0) return false;
        if (s.Contains('.'))
        {
            string hex = s.Replace(".", "", StringComparison.Ordinal);
            if (hex.Length != 16 || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong dv)) return false;
            id = new FluxJobId(dv);
            return true;
        }
        if (s[0] == F58Prefix || s[0] == 'f')
        {
            if (s.Length < 2) return false;
            ulong value = 0;
            for (int i = 1; i < s.Length; i++)
            {
                int d = Alphabet.IndexOf(s[i]);
                if (d < 0) return false;
                ulong next = unchecked(value * 58 + (ulong)d);
                if (value > (ulong.MaxValue - (ulong)d) / 58) return false;
                value = next;
            }
            id = new FluxJobId(value);
            return true;
        }
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hv)) return false;
            id = new FluxJobId(hv);
            return true;
        }
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)) return false;
        id = new FluxJobId(v);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(FluxJobId other) => Value == other.Value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FluxJobId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc />
    public int CompareTo(FluxJobId other) => Value.CompareTo(other.Value);

    /// <summary>Equality of two ids.</summary>
    public static bool operator ==(FluxJobId left, FluxJobId right) => left.Equals(right);

    /// <summary>Inequality of two ids.</summary>
    public static bool operator !=(FluxJobId left, FluxJobId right) => !left.Equals(right);
}
