using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FluxApps.Backends.Flux;

/// <summary>
/// The part of Flux's C API (libflux-core.so.2, flux-core 0.50 and later) the Flux backend uses:
/// handles, the reactor, futures, and job submission, eventlog watching, urgency changes and cancellation.
/// Source-generated P/Invoke (AOT-safe); the library is found by <see cref="FluxLibrary"/>.
/// Every call on a handle, a reactor or a future is made on the one reactor thread that owns them
/// (<see cref="FluxConnection"/>), as libflux requires.
/// </summary>
internal static unsafe partial class FluxNative
{
    /// <summary>The library name the resolver maps to the libflux-core it found.</summary>
    public const string Library = "flux-core";

    public const int ENODATA = 61;
    public const int ENOENT = 2;
    public const int EAGAIN = 11;
    public const int EPIPE = 32;
    public const int ECONNRESET = 104;
    public const int ENOTCONN = 107;
    public const int EHOSTUNREACH = 113;
    public const int ETIMEDOUT = 110;

    /// <summary>Errors with which a request fails when the broker it went to is gone.</summary>
    public static bool IsConnectionLoss(int errno) => errno is EPIPE or ECONNRESET or ENOTCONN or EHOSTUNREACH;

    /// <summary>flux_fd_watcher_create events.</summary>
    public const int FLUX_POLLIN = 1;

    /// <summary>flux_reactor_run flags: block until at least one event, run it, return.</summary>
    public const int FLUX_REACTOR_ONCE = 2;

    /// <summary>flux_error_t: <c>char text[160]</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FluxError
    {
        public fixed byte Text[160];

        public readonly string Message
        {
            get
            {
                fixed (byte* p = Text) return Marshal.PtrToStringUTF8((nint)p) ?? "";
            }
        }
    }

    // Handle and reactor

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_open_ex(string? uri, int flags, FluxError* error);

    [LibraryImport(Library)]
    public static partial void flux_close(nint h);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint flux_get_reactor(nint h);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_reactor_run(nint r, int flags);

    [LibraryImport(Library)]
    public static partial void flux_reactor_stop(nint r);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_attr_get(nint h, string name);

    // KVS (the instance's resource set, resource.R)

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_kvs_lookup(nint h, string? ns, int flags, string key);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_kvs_lookup_get(nint f, nint* value);

    // Watchers

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint flux_fd_watcher_create(nint r, int fd, int events,
        delegate* unmanaged[Cdecl]<nint, nint, int, nint, void> callback, nint arg);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint flux_timer_watcher_create(nint r, double after, double repeat,
        delegate* unmanaged[Cdecl]<nint, nint, int, nint, void> callback, nint arg);

    [LibraryImport(Library)]
    public static partial void flux_watcher_start(nint w);

    [LibraryImport(Library)]
    public static partial void flux_watcher_stop(nint w);

    [LibraryImport(Library)]
    public static partial void flux_watcher_destroy(nint w);

    // Futures

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_future_then(nint f, double timeout, delegate* unmanaged[Cdecl]<nint, nint, void> callback, nint arg);

    [LibraryImport(Library)]
    public static partial void flux_future_reset(nint f);

    [LibraryImport(Library)]
    public static partial void flux_future_destroy(nint f);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_future_get(nint f, nint* result);

    [LibraryImport(Library)]
    public static partial nint flux_future_error_string(nint f);

    // Jobs (libjob)

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_job_submit(nint h, string jobspec, int urgency, int flags);

    /// <summary><c>flux_job_submit</c> flag: the jobspec argument is already signed (J).</summary>
    public const int FLUX_JOB_PRE_SIGNED = 1;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_job_submit_get_id(nint f, ulong* id);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_job_event_watch(nint h, ulong id, string path, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_job_event_watch_get(nint f, nint* eventJson);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_job_event_watch_cancel(nint f);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_job_cancel(nint h, ulong id, string? reason);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint flux_job_set_urgency(nint h, ulong id, int urgency);

    // Services, message handlers and RPCs (pools: a worker's service, reached with flux_rpc_raw at its rank)

    public const int ENOSYS = 38;
    public const int EPERM = 1;
    public const int FLUX_MSGTYPE_REQUEST = 0x01;
    public const uint FLUX_NODEID_ANY = 0xFFFFFFFF;
    public const uint FLUX_ROLE_USER = 2;

    /// <summary>struct flux_match, passed by value: <c>{ int typemask; uint32_t matchtag; const char *topic_glob; }</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FluxMatch
    {
        public int TypeMask;
        public uint MatchTag;
        public byte* TopicGlob;
    }

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_get_rank(nint h, uint* rank);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint flux_service_register(nint h, string name);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint flux_msg_handler_create(nint h, FluxMatch match, delegate* unmanaged[Cdecl]<nint, nint, nint, nint, void> callback, nint arg);

    [LibraryImport(Library)]
    public static partial void flux_msg_handler_start(nint mh);

    [LibraryImport(Library)]
    public static partial void flux_msg_handler_stop(nint mh);

    [LibraryImport(Library)]
    public static partial void flux_msg_handler_destroy(nint mh);

    [LibraryImport(Library)]
    public static partial void flux_msg_handler_allow_rolemask(nint mh, uint rolemask);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_request_decode_raw(nint msg, byte** topic, void** data, nuint* len);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_respond_raw(nint h, nint request, void* data, int len);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_respond_error(nint h, nint request, int errnum, byte* errstr);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint flux_rpc(nint h, string topic, string? payload, uint nodeid, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint flux_rpc_raw(nint h, byte* topic, void* data, nuint len, uint nodeid, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_rpc_get_raw(nint f, void** data, nuint* len);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flux_msg_get_userid(nint msg, uint* userid);

    [LibraryImport(Library)]
    public static partial nint flux_msg_incref(nint msg);

    [LibraryImport(Library)]
    public static partial void flux_msg_decref(nint msg);

    /// <summary>The error text of a failed future: Flux's own message, else strerror(errno).</summary>
    public static string ErrorText(nint future, int errno)
    {
        nint text = future == 0 ? 0 : flux_future_error_string(future);
        string? message = text == 0 ? null : Marshal.PtrToStringUTF8(text);
        return string.IsNullOrEmpty(message) ? Errno.Describe(errno) : message;
    }
}

/// <summary>libc: errno text and the eventfd the reactor thread is woken with.</summary>
internal static unsafe partial class Errno
{
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nint count);

    [LibraryImport("libc")]
    public static partial int close(int fd);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial uint getuid();

    [LibraryImport("libc")]
    private static partial nint strerror(int errnum);

    /// <summary>"Connection reset by peer (errno 104)".</summary>
    public static string Describe(int errno)
    {
        if (errno == 0) return "unknown error";
        nint text = strerror(errno);
        string? s = text == 0 ? null : Marshal.PtrToStringUTF8(text);
        return $"{s ?? "error"} (errno {errno})";
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Last() => Marshal.GetLastPInvokeError();
}
