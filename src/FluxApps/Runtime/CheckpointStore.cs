using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Serialization;

namespace FluxApps.Runtime;

/// <summary>
/// Results of cached apps (<see cref="FluxAppAttribute.Cache"/>), one file per call under
/// <c>&lt;directory&gt;/&lt;app&gt;-&lt;hash of its id&gt;/</c>, named by a hash of the key: the app id, the
/// generator's hash of the app's code (<see cref="FluxAppDescriptor.CodeHash"/>) and the argument bytes.
/// An entry is written whole to a temporary file in the same directory, flushed to disk and renamed into
/// place, so a reader (or a rerun after the writer was killed) sees a complete entry or none. Anything
/// unexpected on reading (another format, another code hash, a torn or corrupted file) is a miss, never
/// an error; a failed write only loses the entry. Calls with the same key in one runtime share one job.
/// </summary>
internal sealed class CheckpointStore
{
    private const uint Magic = 0x4B435846; // "FXCK"
    private const byte StoreVersion = 1;
    private const string TemporaryPrefix = ".tmp-";
    private const int HashLength = 32;

    // Per process, keyed by the entry's full path: runtimes of one process that share a directory
    // also run an identical call once.
    private static readonly ConcurrentDictionary<string, InFlight> s_inFlight = new(StringComparer.Ordinal);

    public CheckpointStore(string directory) => Directory = Path.GetFullPath(directory);

    /// <summary>The checkpoint directory (created private to the user on the first write).</summary>
    public string Directory { get; }

    /// <summary><see cref="FluxAppsOptions.CheckpointDirectory"/>, else <c>FLUXAPPS_CHECKPOINT</c>, else <c>~/.fluxapps/checkpoints</c>.</summary>
    public static string DirectoryFor(FluxAppsOptions options)
    {
        if (!string.IsNullOrEmpty(options.CheckpointDirectory)) return options.CheckpointDirectory;
        string? env = Environment.GetEnvironmentVariable("FLUXAPPS_CHECKPOINT");
        if (!string.IsNullOrWhiteSpace(env)) return env;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".fluxapps", "checkpoints");
    }

    /// <summary>Whether a call uses the checkpoint: the per-call override, else the attribute's. A command app cannot.</summary>
    /// <exception cref="ArgumentException">Caching was asked for a command app, whose result is files and an exit code.</exception>
    public static bool Resolve(FluxAppDescriptor app, FluxCallOptions? options, bool isCommand)
    {
        bool cache = options?.Cache ?? app.Cache;
        if (cache && isCommand)
            throw new ArgumentException(
                $"{app.DisplayName}: Cache = true is not possible for a command app: its result is an exit code and output files the checkpoint cannot hold; remove Cache.",
                nameof(FluxCallOptions.Cache));
        return cache;
    }

    /// <summary>One call's place in the store.</summary>
    public sealed record Key(string AppId, string CodeHash, byte[] ArgumentsHash, string AppDirectory, string EntryPath);

    /// <summary>The key of a call of <paramref name="app"/> with these argument bytes.</summary>
    public Key KeyFor(FluxAppDescriptor app, ReadOnlySpan<byte> arguments)
    {
        string codeHash = app.CodeHash ?? "";
        byte[] argumentsHash = SHA256.HashData(arguments);
        var key = new FluxWriter(256);
        key.WriteString(app.Id);
        key.WriteString(codeHash);
        key.WriteRaw(argumentsHash);
        string entry = Convert.ToHexStringLower(SHA256.HashData(key.WrittenSpan));
        string appDirectory = Path.Combine(Directory, AppDirectoryName(app));
        return new Key(app.Id, codeHash, argumentsHash, appDirectory, Path.Combine(appDirectory, entry));
    }

    /// <summary>An app's directory name: readable, and unique per app id (<c>Physics.Simulate-1a2b3c4d</c>).</summary>
    public static string AppDirectoryName(FluxAppDescriptor app)
    {
        var name = new StringBuilder(app.DisplayName.Length + 9);
        foreach (char c in app.DisplayName) name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        name.Append('-').Append(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(app.Id)), 0, 4));
        return name.ToString();
    }

    /// <summary>The stored result bytes for <paramref name="key"/>, or null: absent, stale or unreadable entries are misses.</summary>
    public static byte[]? TryRead(Key key)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(key.EntryPath)) return null;
            bytes = File.ReadAllBytes(key.EntryPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return Decode(bytes, key);
    }

    /// <summary>The result in an entry's bytes when they are whole and belong to <paramref name="key"/>; null otherwise.</summary>
    internal static byte[]? Decode(byte[] bytes, Key key)
    {
        if (bytes.Length < HashLength + 6) return null;
        int body = bytes.Length - HashLength;
        // The checksum first: a torn or corrupted file is a miss however its header looks.
        if (!SHA256.HashData(bytes.AsSpan(0, body)).AsSpan().SequenceEqual(bytes.AsSpan(body))) return null;
        try
        {
            var r = new FluxReader(bytes, 0, body);
            if (r.ReadUInt32() != Magic || r.ReadByte() != StoreVersion || r.ReadByte() != Payload.FormatVersion) return null;
            if (r.ReadString() != key.AppId || r.ReadString() != key.CodeHash) return null;
            if (!r.ReadRaw(HashLength).SequenceEqual(key.ArgumentsHash)) return null;
            int length = r.ReadInt32();
            if (length < 0 || length != r.Remaining) return null;
            return r.ReadRaw(length).ToArray();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The bytes of an entry holding <paramref name="result"/> for <paramref name="key"/>.</summary>
    internal static byte[] Encode(Key key, ReadOnlySpan<byte> result)
    {
        var w = new FluxWriter(result.Length + 256);
        w.WriteUInt32(Magic);
        w.WriteByte(StoreVersion);
        w.WriteByte(Payload.FormatVersion);
        w.WriteString(key.AppId);
        w.WriteString(key.CodeHash);
        w.WriteRaw(key.ArgumentsHash);
        w.WriteInt32(result.Length);
        w.WriteRaw(result);
        w.WriteRaw(SHA256.HashData(w.WrittenSpan));
        return w.ToArray();
    }

    /// <summary>
    /// Stores a result: temporary file (0600) in the entry's directory, flushed to disk, renamed over the
    /// entry, and the directory flushed so the rename survives a crash. Returns false when it could not be stored (the call still has its result; only the entry is lost).
    /// </summary>
    public bool Write(Key key, ReadOnlySpan<byte> result)
    {
        string temporary = Path.Combine(key.AppDirectory, TemporaryPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            bool newAppDirectory = !System.IO.Directory.Exists(key.AppDirectory);
            RunDirectories.CreatePrivateDirectory(Directory);
            RunDirectories.CreatePrivateDirectory(key.AppDirectory);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encode(key, result));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, key.EntryPath, overwrite: true);
            // The rename is durable only once the directory holding it is flushed (and, when that directory is new, its parent).
            PosixFiles.SyncDirectory(key.AppDirectory);
            if (newAppDirectory) PosixFiles.SyncDirectory(Directory);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RunDirectories.TryDeleteFile(temporary);
            return false;
        }
    }

    /// <summary>
    /// Serves a call from the store, or from an identical call running in this runtime; returns false when
    /// the call must run, and then makes it the one identical calls wait for and the one that stores its result.
    /// <paramref name="runItself"/> starts the call again when the call it waited for was cancelled.
    /// </summary>
    public bool TryServe(FluxFuture future, ReadOnlySpan<byte> arguments, Action runItself)
    {
        var key = KeyFor(future.App, arguments);
        while (true)
        {
            if (s_inFlight.TryGetValue(key.EntryPath, out var running))
            {
                if (running.Owner.IsCompleted)
                {
                    // Finished, and its entry (if any) written before it completed: the table entry is
                    // only waiting for its clean-up continuation. A later call reads the store instead.
                    s_inFlight.TryRemove(new(key.EntryPath, running));
                    continue;
                }
                future.RefuseUrgency($"waits for an identical call already running in this process (job {running.Owner.JobId?.ToString() ?? "not yet assigned"}) and has no job of its own; that call's urgency can change");
                Follow(future, running, runItself);
                return true;
            }
            if (TryRead(key) is { } stored)
            {
                if (future.TrySetCachedResult(stored, key.EntryPath)) return true;
                // An entry that does not decode is a miss like any other: run, and overwrite it.
            }
            var mine = new InFlight(future);
            if (!s_inFlight.TryAdd(key.EntryPath, mine)) continue; // an identical call got there first
            future.ResultStored = result =>
            {
                Write(key, result.Span);
                mine.Result = result.ToArray();
            };
            future.AsTask().ContinueWith(static (outcome, state) =>
            {
                var (store, key, mine) = ((CheckpointStore, Key, InFlight))state!;
                // Out of the table before followers resume, so later calls read the entry instead.
                s_inFlight.TryRemove(new(key.EntryPath, mine));
                if (outcome.IsCanceled) mine.Completion.TrySetCanceled();
                else if (outcome.Exception is { } failed) mine.Completion.TrySetException(failed.InnerExceptions);
                else mine.Completion.TrySetResult(mine.Result ?? []);
            }, (this, key, mine), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return false;
        }
    }

    private static void Follow(FluxFuture future, InFlight running, Action runItself)
    {
        running.Completion.Task.ContinueWith(static (outcome, state) =>
        {
            var (future, runItself) = ((FluxFuture, Action))state!;
            if (future.IsCompleted) return; // cancelled meanwhile
            if (outcome.IsCanceled) runItself(); // the other caller gave up; this one still wants the result
            else if (outcome.Exception is { } failed) future.TrySetException(FluxJobException.CopyFor(failed.InnerException!)); // its own instance, not the one the first caller holds
            else if (!future.TrySetCachedResult(outcome.Result, "an identical call in this process")) runItself();
        }, (future, runItself), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>A call with a given key that is running now, and its outcome once known.</summary>
    private sealed class InFlight(FluxFuture owner)
    {
        public readonly FluxFuture Owner = owner;
        public readonly TaskCompletionSource<byte[]> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public byte[]? Result;
    }

}
