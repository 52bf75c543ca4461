using System;
using System.IO;
using FluxApps.Serialization;

namespace FluxApps.Runtime;

/// <summary>
/// The files a job exchanges with its caller, in its job directory: <c>args.bin</c> (the call),
/// <c>result.bin</c> (rank 0's return value), <c>error.N.bin</c> (what rank N threw).
/// </summary>
internal static class Payload
{
    public const string ArgumentsFile = "args.bin";
    public const string ResultFile = "result.bin";
    public const string StdoutFile = "stdout";
    public const string StderrFile = "stderr";
    private const uint ArgumentsMagic = 0x50415846; // "FXAP"
    private const uint ResultMagic = 0x53525846;    // "FXRS"
    internal const byte FormatVersion = 1;

    // Header fields name an assembly, its file and an app: far below these, which only bound what a
    // hostile header can make a reader hold (the string lengths are checked against the payload too).
    internal const int MaxNameLength = 1024;
    internal const int MaxPathLength = 4096;
    internal const int MaxAppIdLength = 4096;

    public static string ErrorFile(int rank) => $"error.{rank}.bin";

    /// <summary>
    /// The file where a worker rank records the code it exits with (as decimal text). Written as the process
    /// exits normally (<c>Environment.Exit</c> or the end of <c>Main</c>); a rank killed by a signal never
    /// writes it, which is how an exit code of 128 + N is told apart from signal N.
    /// </summary>
    public static string ExitFile(int rank) => $"exit.{rank}";

    /// <summary>Records this rank's exit code; never throws (it runs as the process exits).</summary>
    public static void WriteExitRecord(string jobDirectory, int rank, int exitCode)
    {
        try
        {
            Span<byte> text = stackalloc byte[12];
            // By hand: formatting through CultureInfo would load ICU in a NativeAOT worker's last moment.
            int length = 0;
            uint value = (uint)Math.Abs((long)exitCode);
            do { text[length++] = (byte)('0' + value % 10); value /= 10; } while (value > 0);
            if (exitCode < 0) text[length++] = (byte)'-';
            text[..length].Reverse();
            RawFile.WriteAllBytes(Path.Combine(jobDirectory, ExitFile(rank)), text[..length]);
        }
        catch (Exception)
        {
            // Nothing to report to: the process is exiting. A missing record reads as "killed by a signal".
        }
    }

    /// <summary>The exit code rank <paramref name="rank"/> recorded, or null when it recorded none (or it cannot be read).</summary>
    public static int? ReadExitRecord(string jobDirectory, int rank)
    {
        try
        {
            string path = Path.Combine(jobDirectory, ExitFile(rank));
            if (!File.Exists(path)) return null;
            return int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.AllowLeadingSign,
                System.Globalization.CultureInfo.InvariantCulture, out int code) ? code : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>What an error file says went wrong.</summary>
    public enum ErrorKind : byte
    {
        /// <summary>The app method threw.</summary>
        AppException = 1,
        /// <summary>The worker could not run the app (bad or foreign payload, unknown app).</summary>
        WorkerError = 2,
    }

    public sealed record ArgumentsHeader(string AssemblyName, string AssemblyPath, Guid BuildId, string AppId);

    public sealed record ErrorReport(ErrorKind Kind, int Rank, string Type, string Message, string StackTrace);

    public static void WriteArguments(string path, FluxAppDescriptor app, ReadOnlySpan<byte> arguments) =>
        WriteFile(path, BuildArguments(app, arguments).WrittenSpan);

    /// <summary>The whole arguments payload: header (assembly, build, app id) then the arguments.</summary>
    public static FluxWriter BuildArguments(FluxAppDescriptor app, ReadOnlySpan<byte> arguments)
    {
        var w = new FluxWriter(arguments.Length + 256);
        w.WriteUInt32(ArgumentsMagic);
        w.WriteByte(FormatVersion);
        w.WriteString(app.AssemblyName);
        w.WriteString(app.AssemblyLocation);
        w.WriteGuid(app.BuildId);
        w.WriteString(app.Id);
        w.WriteRaw(arguments);
        return w;
    }

    /// <summary>Reads the header of an arguments file; the reader is left at the first argument.</summary>
    /// <exception cref="FluxPayloadException">The header is not one this FluxApps writes.</exception>
    public static ArgumentsHeader ReadArgumentsHeader(FluxReader r, string path)
    {
        if (r.Remaining < 5)
            throw new FluxPayloadException($"{path} is not a FluxApps arguments payload: it has {r.Remaining} bytes, fewer than a header's");
        uint magic = r.ReadUInt32();
        if (magic != ArgumentsMagic)
            throw new FluxPayloadException($"{path} is not a FluxApps arguments payload: it starts with 0x{magic:x8}, not 0x{ArgumentsMagic:x8}", 0);
        byte version = r.ReadByte();
        if (version != FormatVersion)
            throw new FluxPayloadException($"{path} has payload format {version}; this FluxApps reads format {FormatVersion}", 4);
        string assembly = HeaderString(r, path, "assembly name", MaxNameLength, allowEmpty: false);
        string location = HeaderString(r, path, "assembly path", MaxPathLength, allowEmpty: true); // empty in single-file and AOT programs
        int buildOffset = r.Position;
        Guid build = r.ReadGuid();
        if (build == Guid.Empty)
            throw new FluxPayloadException($"{path} names no build of its assembly (the build id is empty)", buildOffset);
        string appId = HeaderString(r, path, "app id", MaxAppIdLength, allowEmpty: false);
        return new ArgumentsHeader(assembly, location, build, appId);
    }

    private static string HeaderString(FluxReader r, string path, string field, int maxLength, bool allowEmpty)
    {
        int offset = r.Position;
        string? value = r.ReadString();
        if (value is null || (!allowEmpty && value.Length == 0))
            throw new FluxPayloadException($"{path} has no {field} in its header", offset);
        if (value.Length > maxLength)
            throw new FluxPayloadException($"{path}: the {field} in its header is {value.Length} characters long, more than the {maxLength} allowed", offset);
        return value;
    }

    public static FluxWriter BeginResult()
    {
        var w = new FluxWriter();
        w.WriteUInt32(ResultMagic);
        w.WriteByte(FormatVersion);
        w.WriteByte(0);
        return w;
    }

    public static void WriteError(string path, ErrorReport error) => WriteFile(path, BuildError(error).WrittenSpan);

    /// <summary>The whole error report payload.</summary>
    public static FluxWriter BuildError(ErrorReport error)
    {
        var w = new FluxWriter();
        w.WriteUInt32(ResultMagic);
        w.WriteByte(FormatVersion);
        w.WriteByte((byte)error.Kind);
        w.WriteInt32(error.Rank);
        w.WriteString(error.Type);
        w.WriteString(error.Message);
        w.WriteString(error.StackTrace);
        return w;
    }

    /// <summary>Opens a result file; the reader is left at the value.</summary>
    /// <exception cref="FluxPayloadException">The file is not a result payload.</exception>
    public static FluxReader ReadResult(string path) => OpenResult(RawFile.ReadAllBytes(path), path);

    /// <summary>Checks a result payload's header; the reader is left at the value.</summary>
    /// <exception cref="FluxPayloadException">The bytes are not a result payload.</exception>
    public static FluxReader OpenResult(byte[] bytes, string path)
    {
        var r = new FluxReader(bytes);
        byte kind = ReadResultHeader(r, path, "result payload");
        if (kind != 0)
            throw new FluxPayloadException($"{path} is not a FluxApps result payload: it is an error report of kind {kind}", 5);
        return r;
    }

    /// <exception cref="FluxPayloadException">The file is not an error report.</exception>
    public static ErrorReport ReadError(string path) => ParseError(RawFile.ReadAllBytes(path), path);

    /// <exception cref="FluxPayloadException">The bytes are not an error report.</exception>
    public static ErrorReport ParseError(byte[] bytes, string path)
    {
        var r = new FluxReader(bytes);
        byte kind = ReadResultHeader(r, path, "error report");
        if (kind is not ((byte)ErrorKind.AppException or (byte)ErrorKind.WorkerError))
            throw new FluxPayloadException($"{path} is not a FluxApps error report: its kind is {kind}", 5);
        int rank = r.ReadInt32();
        if (rank < 0)
            throw new FluxPayloadException($"{path} reports an error on rank {rank}", 6);
        var report = new ErrorReport((ErrorKind)kind, rank, r.ReadString() ?? "", r.ReadString() ?? "", r.ReadString() ?? "");
        if (r.Remaining != 0)
            throw new FluxPayloadException($"{path} has {r.Remaining} bytes after its error report", r.Position);
        return report;
    }

    /// <summary>Reads the magic and version of a result or error file; returns the kind byte (0 for a result).</summary>
    private static byte ReadResultHeader(FluxReader r, string path, string what)
    {
        if (r.Remaining < 6)
            throw new FluxPayloadException($"{path} is not a FluxApps {what}: it has {r.Remaining} bytes, fewer than a header's");
        uint magic = r.ReadUInt32();
        if (magic != ResultMagic)
            throw new FluxPayloadException($"{path} is not a FluxApps {what}: it starts with 0x{magic:x8}, not 0x{ResultMagic:x8}", 0);
        byte version = r.ReadByte();
        if (version != FormatVersion)
            throw new FluxPayloadException($"{path} has payload format {version}; this FluxApps reads format {FormatVersion}", 4);
        return r.ReadByte();
    }

    /// <summary>
    /// Writes a whole file. No temp-file-and-rename: the other side only reads it after this
    /// process has exited (worker files) or before the worker starts (arguments), so a plain write
    /// is safe, and it keeps file-system work off the worker's start-up.
    /// </summary>
    public static void WriteFile(string path, ReadOnlySpan<byte> bytes) => RawFile.WriteAllBytes(path, bytes);
}
