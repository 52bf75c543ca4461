using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FluxApps.Runtime;

/// <summary>
/// Whole-file reads and writes with open/read/write/close, for payload files. A worker reads one
/// file and writes one: the first use of <see cref="FileStream"/> (strategies, handle checks, locks)
/// costs a JIT worker several milliseconds of start-up, these calls almost none. Blittable imports
/// with errno read by hand, so no marshalling facade (System.Runtime.InteropServices) is loaded
/// either. NativeAOT programs and systems other than Linux use <see cref="File"/>: there it is
/// precompiled and cheap, while resolving a "libc" import at run time would initialize globalization (ICU).
/// </summary>
internal static unsafe class RawFile
{
    private const int ReadOnly = 0x0, WriteOnly = 0x1, Create = 0x40, Truncate = 0x200, CloseOnExec = 0x80000;
    private const int SeekSet = 0, SeekEnd = 2;
    private const int ErrorInterrupted = 4, ErrorNoEntry = 2;

    private static bool UseRawCalls => RuntimeFeature.IsDynamicCodeSupported && OperatingSystem.IsLinux();

    public static byte[] ReadAllBytes(string path)
    {
        if (!UseRawCalls) return File.ReadAllBytes(path);
        int fd = Open(path, ReadOnly | CloseOnExec, 0);
        if (fd < 0) throw Failure("read", path);
        try
        {
            long size = lseek(fd, 0, SeekEnd);
            if (size < 0 || size > Array.MaxLength || lseek(fd, 0, SeekSet) != 0) throw Failure("read", path);
            byte[] bytes = GC.AllocateUninitializedArray<byte>((int)size);
            int done = 0;
            fixed (byte* p = bytes)
            {
                while (done < bytes.Length)
                {
                    nint n = read(fd, p + done, (nuint)(bytes.Length - done));
                    if (n < 0 && Errno == ErrorInterrupted) continue;
                    if (n < 0) throw Failure("read", path);
                    if (n == 0) break; // shrank while reading: return what is there
                    done += (int)n;
                }
            }
            return done == bytes.Length ? bytes : bytes.AsSpan(0, done).ToArray();
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>Creates or replaces <paramref name="path"/> (mode 0600) with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        if (!UseRawCalls)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }
        int fd = Open(path, WriteOnly | Create | Truncate | CloseOnExec, 0x180);
        if (fd < 0) throw Failure("write", path);
        try
        {
            fixed (byte* p = bytes)
            {
                int done = 0;
                while (done < bytes.Length)
                {
                    nint n = write(fd, p + done, (nuint)(bytes.Length - done));
                    if (n < 0 && Errno == ErrorInterrupted) continue;
                    if (n <= 0) throw Failure("write", path);
                    done += (int)n;
                }
            }
        }
        finally
        {
            close(fd);
        }
    }

    private static int Errno => *__errno_location();

    private static int Open(string path, int flags, int mode)
    {
        // The path as UTF-8, NUL-terminated; ASCII by hand (the UTF-8 encoder's first use costs milliseconds).
        int length = path.Length;
        bool ascii = true;
        foreach (char c in path) ascii &= c < 0x80;
        if (!ascii) length = System.Text.Encoding.UTF8.GetByteCount(path);
        byte[] bytes = new byte[length + 1];
        if (ascii)
            for (int i = 0; i < path.Length; i++) bytes[i] = (byte)path[i];
        else
            System.Text.Encoding.UTF8.GetBytes(path, 0, path.Length, bytes, 0);
        fixed (byte* p = bytes)
        {
            int fd;
            while ((fd = open(p, flags, mode)) < 0 && Errno == ErrorInterrupted) { }
            return fd;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // keeps Marshal (a facade's type) out of the callers' start-up
    private static IOException Failure(string action, string path)
    {
        int errno = Errno;
        string message = $"could not {action} {path}: {Marshal.GetPInvokeErrorMessage(errno)}";
        return errno == ErrorNoEntry ? new FileNotFoundException(message, path) : new IOException(message);
    }

    [DllImport("libc")]
    private static extern int open(byte* path, int flags, int mode);

    [DllImport("libc")]
    private static extern long lseek(int fd, long offset, int whence);

    [DllImport("libc")]
    private static extern nint read(int fd, byte* buffer, nuint count);

    [DllImport("libc")]
    private static extern nint write(int fd, byte* buffer, nuint count);

    [DllImport("libc")]
    private static extern int close(int fd);

    [DllImport("libc")]
    private static extern int* __errno_location();
}
