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

    public static string ErrorFile(int rank) => $"error.{rank}.bin";

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
    public static ArgumentsHeader ReadArgumentsHeader(FluxReader r, string path)
    {
        if (r.Remaining < 5 || r.ReadUInt32() != ArgumentsMagic)
            throw new InvalidDataException($"{path} is not a FluxApps arguments payload.");
        byte version = r.ReadByte();
        if (version != FormatVersion)
            throw new InvalidDataException($"{path} has payload format {version}; this FluxApps reads format {FormatVersion}.");
        string assembly = r.ReadString() ?? "";
        string location = r.ReadString() ?? "";
        Guid build = r.ReadGuid();
        string appId = r.ReadString() ?? "";
        return new ArgumentsHeader(assembly, location, build, appId);
    }

    public static FluxWriter BeginResult()
    {
        var w = new FluxWriter();
        w.WriteUInt32(ResultMagic);
        w.WriteByte(FormatVersion);
        w.WriteByte(0);
        return w;
    }

    public static void WriteError(string path, ErrorReport error)
    {
        var w = new FluxWriter();
        w.WriteUInt32(ResultMagic);
        w.WriteByte(FormatVersion);
        w.WriteByte((byte)error.Kind);
        w.WriteInt32(error.Rank);
        w.WriteString(error.Type);
        w.WriteString(error.Message);
        w.WriteString(error.StackTrace);
        WriteFile(path, w.WrittenSpan);
    }

    /// <summary>Opens a result file; the reader is left at the value.</summary>
    public static FluxReader ReadResult(string path)
    {
        byte[] bytes = RawFile.ReadAllBytes(path);
        var r = new FluxReader(bytes);
        if (r.Remaining < 6 || r.ReadUInt32() != ResultMagic || r.ReadByte() != FormatVersion || r.ReadByte() != 0)
            throw new InvalidDataException($"{path} is not a FluxApps result payload.");
        return r;
    }

    public static ErrorReport ReadError(string path)
    {
        byte[] bytes = RawFile.ReadAllBytes(path);
        var r = new FluxReader(bytes);
        if (r.Remaining < 6 || r.ReadUInt32() != ResultMagic || r.ReadByte() != FormatVersion)
            throw new InvalidDataException($"{path} is not a FluxApps error report.");
        var kind = (ErrorKind)r.ReadByte();
        int rank = r.ReadInt32();
        return new ErrorReport(kind, rank, r.ReadString() ?? "", r.ReadString() ?? "", r.ReadString() ?? "");
    }

    /// <summary>
    /// Writes a whole file. No temp-file-and-rename: the other side only reads it after this
    /// process has exited (worker files) or before the worker starts (arguments), so a plain write
    /// is safe, and it keeps file-system work off the worker's start-up.
    /// </summary>
    public static void WriteFile(string path, ReadOnlySpan<byte> bytes) => RawFile.WriteAllBytes(path, bytes);
}
