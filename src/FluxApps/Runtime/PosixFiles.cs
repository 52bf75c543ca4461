using System;
using System.IO;
using System.Runtime.InteropServices;

namespace FluxApps.Runtime;

/// <summary>
/// The few file-system facts .NET does not expose on Linux: a path's owner (<c>statx</c>, whose layout is the
/// same on every architecture) and a <c>mkdir</c> that fails when the name already exists.
/// </summary>
internal static partial class PosixFiles
{
    private const int AtCurrentDirectory = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256, StatxUidOffset = 20, StatxModeOffset = 28;
    private const int ErrorExists = 17;

    /// <summary>File type bits of a mode.</summary>
    public const uint TypeMask = 0xF000, Directory = 0x4000, SymbolicLink = 0xA000;

    /// <summary>The sticky bit: in a directory, only an entry's owner may remove or rename it.</summary>
    public const uint Sticky = 0x200;

    /// <summary>This process's effective user id.</summary>
    public static uint EffectiveUserId => geteuid();

    /// <summary>The owner and mode (type bits included) of <paramref name="path"/>, or null when it cannot be read.</summary>
    public static unsafe (uint Owner, uint Mode)? Stat(string path, bool followLinks)
    {
        byte* buffer = stackalloc byte[StatxSize];
        if (statx(AtCurrentDirectory, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0) return null;
        return (*(uint*)(buffer + StatxUidOffset), *(ushort*)(buffer + StatxModeOffset));
    }

    /// <summary>Creates a directory that did not exist (mode 0700); throws <see cref="IOException"/> naming it when the name is taken or it cannot be made.</summary>
    public static void MakeNewDirectory(string path)
    {
        if (mkdir(path, 0x1C0) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        throw new IOException(errno == ErrorExists
            ? $"{path} already exists: a run directory must be new, and something already has its name"
            : $"could not create {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    /// <summary>
    /// Flushes a directory's entries to disk (<c>fsync</c> of the directory), so a file just renamed into it is
    /// still there after a crash of the machine. Best effort: false where it cannot be done (not Linux, a file system without it).
    /// </summary>
    public static bool SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        const int ReadOnly = 0, OpenDirectory = 0x10000, CloseOnExec = 0x80000;
        int fd = open(path, ReadOnly | OpenDirectory | CloseOnExec);
        if (fd < 0) return false;
        try
        {
            return fsync(fd) == 0;
        }
        finally
        {
            close(fd);
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
