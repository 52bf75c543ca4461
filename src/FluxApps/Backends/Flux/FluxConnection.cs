using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Backends.Flux;

/// <summary>
/// A connection to a Flux instance, owned by one thread that runs its reactor (as in flux-core's
/// Python FluxExecutor): the handle, the reactor and every future are touched only there. Other
/// threads hand work over with <see cref="Post"/>, which wakes the reactor through an eventfd.
/// When the connection breaks (the broker died, the socket closed) the reactor stops with an error;
/// <see cref="Closing"/> then runs with the reason, and every later <see cref="Post"/> is refused.
/// A broker that stops answering without closing the socket (stopped, hung, its node unreachable: TCP
/// would take many minutes to tell) is found by a ping every <see cref="PingInterval"/>: no reply within
/// <see cref="PingTimeout"/> fails the connection the same way.
/// </summary>
internal sealed class FluxConnection
{
    private readonly ConcurrentQueue<(Action Run, Action<string>? Abort)> _work = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private nint _h;
    private nint _reactor;
    private nint _wakeWatcher;
    private nint _pingTimer;
    private nint _pingFuture;
    private int _eventFd = -1;
    private GCHandle _self;
    private bool _stopRequested;
    private bool _closed;
    private string? _failure;
    private int _reactorThreadId;

    private FluxConnection(string uri)
    {
        Uri = uri;
        _thread = new Thread(ThreadMain) { IsBackground = true, Name = "FluxApps reactor " + uri };
    }

    /// <summary>How often the broker is pinged while connected.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(2);

    /// <summary>Environment variable: seconds a ping may wait for its reply (default 10; 0 turns the check off).</summary>
    public const string PingTimeoutVariable = "FLUXAPPS_FLUX_PING_TIMEOUT";

    /// <summary>
    /// How long a ping may go unanswered before the broker counts as gone: <c>FLUXAPPS_FLUX_PING_TIMEOUT</c> seconds,
    /// else 10 s (a broker's ping handler answers in microseconds even under load); zero when the check is off.
    /// </summary>
    public static TimeSpan PingTimeout { get; } =
        double.TryParse(Environment.GetEnvironmentVariable(PingTimeoutVariable), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds >= 0 && double.IsFinite(seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(10);

    /// <summary>The URI connected to.</summary>
    public string Uri { get; }

    /// <summary>The flux_t handle; use it only on the reactor thread.</summary>
    public nint Handle => _h;

    /// <summary>Broker attributes read at connect time.</summary>
    public string? Size { get; private set; }

    /// <summary>flux-core version of the broker.</summary>
    public string? Version { get; private set; }

    /// <summary>Process id of the broker connected to (rank 0 for a local URI).</summary>
    public int? BrokerPid { get; private set; }

    /// <summary>Why the connection is unusable (null while it works, or after a requested close).</summary>
    public string? Failure
    {
        get { lock (_gate) return _failure; }
    }

    /// <summary>True on the reactor thread.</summary>
    public bool OnReactorThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _reactorThreadId);

    /// <summary>
    /// Runs on the reactor thread once the reactor has stopped, before the handle closes: the owner
    /// destroys its futures and fails what is pending. The argument is the failure, or null when
    /// <see cref="CloseAsync"/> asked for the stop.
    /// </summary>
    public Action<string?>? Closing { get; set; }

    /// <summary>Connects (on a new reactor thread); throws <see cref="FluxConnectionException"/> when the instance cannot be reached.</summary>
    public static async Task<FluxConnection> OpenAsync(string uri, CancellationToken cancellationToken)
    {
        var connection = new FluxConnection(uri);
        connection._thread.Start();
        try
        {
            await connection._opened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The open may still succeed: close whatever it opens.
            _ = connection._opened.Task.ContinueWith(t => { if (t.IsCompletedSuccessfully) _ = connection.CloseAsync(); }, TaskScheduler.Default);
            throw;
        }
        return connection;
    }

    private void ThreadMain()
    {
        Volatile.Write(ref _reactorThreadId, Environment.CurrentManagedThreadId);
        try
        {
            Open();
        }
        catch (Exception ex)
        {
            Cleanup();
            lock (_gate) _closed = true;
            _opened.TrySetException(ex);
            _exited.TrySetResult();
            return;
        }
        _opened.TrySetResult();

        int rc = FluxNative.flux_reactor_run(_reactor, 0);
        int errno = Errno.Last();
        string? failure;
        lock (_gate)
        {
            if (_failure is null && !_stopRequested)
            {
                _failure = rc < 0
                    ? $"lost the connection to the Flux instance at {Uri}{(errno != 0 ? $" ({Errno.Describe(errno)})" : "")}: its broker exited or the connection broke"
                    : $"the reactor of the connection to {Uri} stopped unexpectedly";
            }
            failure = _failure;
            _closed = true;
        }
        try
        {
            Closing?.Invoke(failure);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: error while closing the Flux connection: " + ex);
        }
        // Work that arrived too late to run is told why.
        string reason = failure ?? $"the connection to the Flux instance at {Uri} was closed";
        while (_work.TryDequeue(out var item))
        {
            try { item.Abort?.Invoke(reason); }
            catch (Exception ex) { Console.Error.WriteLine("FluxApps: " + ex); }
        }
        Cleanup();
        _exited.TrySetResult();
    }

    private unsafe void Open()
    {
        FluxNative.FluxError error = default;
        _h = FluxNative.flux_open_ex(Uri, 0, &error);
        if (_h == 0)
        {
            int errno = Errno.Last();
            string why = error.Message;
            throw new FluxConnectionException($"Could not connect to the Flux instance at {Uri}: {(why.Length > 0 ? why : Errno.Describe(errno))}.");
        }
        _reactor = FluxNative.flux_get_reactor(_h);
        if (_reactor == 0) throw new FluxConnectionException($"Could not get the reactor of the Flux handle for {Uri}: {Errno.Describe(Errno.Last())}.");
        _eventFd = Errno.eventfd(0, Errno.EFD_CLOEXEC | Errno.EFD_NONBLOCK);
        if (_eventFd < 0) throw new FluxConnectionException($"eventfd failed: {Errno.Describe(Errno.Last())}.");
        _self = GCHandle.Alloc(this);
        _wakeWatcher = FluxNative.flux_fd_watcher_create(_reactor, _eventFd, FluxNative.FLUX_POLLIN, &OnWake, GCHandle.ToIntPtr(_self));
        if (_wakeWatcher == 0) throw new FluxConnectionException($"flux_fd_watcher_create failed: {Errno.Describe(Errno.Last())}.");
        FluxNative.flux_watcher_start(_wakeWatcher);
        if (PingTimeout > TimeSpan.Zero)
        {
            double every = PingInterval.TotalSeconds;
            _pingTimer = FluxNative.flux_timer_watcher_create(_reactor, every, every, &OnPingTimer, GCHandle.ToIntPtr(_self));
            if (_pingTimer == 0) throw new FluxConnectionException($"flux_timer_watcher_create failed: {Errno.Describe(Errno.Last())}.");
            FluxNative.flux_watcher_start(_pingTimer);
        }
        Size = Attr("size");
        Version = Attr("version");
        BrokerPid = int.TryParse(Attr("broker.pid"), out int pid) ? pid : null;
        Resources = ResourceSet.Parse(LookupResourceSet());
        OwnerUserId = uint.TryParse(Attr("security.owner"), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out uint owner) ? owner : null;
    }

    /// <summary>
    /// The instance's resources (<c>resource.R</c>), read once at connection, or null where the KVS did not give them
    /// (a guest of a multi-user instance may not read it).
    /// </summary>
    public ResourceSet? Resources { get; private set; }

    /// <summary>Reads <c>resource.R</c> from the KVS (synchronously: the reactor does not run yet); null on any failure.</summary>
    private unsafe string? LookupResourceSet()
    {
        nint f = FluxNative.flux_kvs_lookup(_h, null, 0, "resource.R");
        if (f == 0) return null;
        try
        {
            nint value = 0;
            return FluxNative.flux_kvs_lookup_get(f, &value) == 0 && value != 0 ? Marshal.PtrToStringUTF8(value) : null;
        }
        finally
        {
            FluxNative.flux_future_destroy(f);
        }
    }

    /// <summary>The instance owner's user id (<c>security.owner</c>), or null where the broker did not say.</summary>
    public uint? OwnerUserId { get; private set; }

    private string? Attr(string name)
    {
        nint value = FluxNative.flux_attr_get(_h, name);
        return value == 0 ? null : Marshal.PtrToStringUTF8(value);
    }

    private static void DestroyWatcher(ref nint watcher)
    {
        if (watcher == 0) return;
        FluxNative.flux_watcher_stop(watcher);
        FluxNative.flux_watcher_destroy(watcher);
        watcher = 0;
    }

    private void Cleanup()
    {
        DestroyWatcher(ref _pingTimer);
        if (_pingFuture != 0)
        {
            FluxNative.flux_future_destroy(_pingFuture);
            _pingFuture = 0;
        }
        DestroyWatcher(ref _wakeWatcher);
        if (_h != 0)
        {
            FluxNative.flux_close(_h);
            _h = 0;
            _reactor = 0;
        }
        lock (_gate)
        {
            if (_eventFd >= 0)
            {
                Errno.close(_eventFd);
                _eventFd = -1;
            }
        }
        if (_self.IsAllocated) _self.Free();
    }

    /// <summary>
    /// Runs <paramref name="run"/> on the reactor thread. Returns false, running nothing, when the
    /// connection is closed or closing; <paramref name="abort"/> runs instead if the connection
    /// closes after accepting the work but before running it.
    /// </summary>
    public bool Post(Action run, Action<string>? abort = null)
    {
        lock (_gate)
        {
            if (_closed || _stopRequested || _failure is not null) return false;
            _work.Enqueue((run, abort));
        }
        Wake();
        return true;
    }

    private unsafe void Wake()
    {
        ulong one = 1;
        // Under the gate: the eventfd is closed under it too, so its number is never written after reuse.
        lock (_gate)
        {
            if (_eventFd >= 0) Errno.write(_eventFd, &one, sizeof(ulong));
        }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static unsafe void OnWake(nint reactor, nint watcher, int revents, nint arg)
    {
        if (GCHandle.FromIntPtr(arg).Target is not FluxConnection self) return;
        ulong count;
        Errno.read(self._eventFd, &count, sizeof(ulong));
        while (self._work.TryDequeue(out var item))
        {
            try
            {
                item.Run();
            }
            catch (Exception ex)
            {
                // A bug in a work item must not take the reactor down with it.
                Console.Error.WriteLine("FluxApps: unexpected error on the Flux reactor thread: " + ex);
            }
        }
    }

    /// <summary>Sends a ping unless one is still out (its own timeout then decides).</summary>
    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static unsafe void OnPingTimer(nint reactor, nint watcher, int revents, nint arg)
    {
        if (GCHandle.FromIntPtr(arg).Target is not FluxConnection self || self._pingFuture != 0) return;
        nint f = FluxNative.flux_rpc(self._h, "broker.ping", "{}", FluxNative.FLUX_NODEID_ANY, 0);
        if (f == 0) return; // a broken socket stops the reactor by itself
        if (FluxNative.flux_future_then(f, PingTimeout.TotalSeconds, &OnPingReply, arg) < 0)
        {
            FluxNative.flux_future_destroy(f);
            return;
        }
        self._pingFuture = f;
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static unsafe void OnPingReply(nint f, nint arg)
    {
        if (GCHandle.FromIntPtr(arg).Target is not FluxConnection self) return;
        int rc = FluxNative.flux_future_get(f, null);
        int errno = rc < 0 ? Errno.Last() : 0;
        FluxNative.flux_future_destroy(f);
        self._pingFuture = 0;
        if (errno == FluxNative.ETIMEDOUT)
        {
            self.Fail(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"lost the connection to the Flux instance at {self.Uri}: its broker did not answer a ping within {PingTimeout.TotalSeconds:0.#} s (stopped, hung, or its node unreachable; {PingTimeoutVariable} sets the wait)"));
        }
    }

    /// <summary>Marks the connection broken and stops the reactor (callable from any thread).</summary>
    public void Fail(string reason)
    {
        lock (_gate)
        {
            if (_closed || _failure is not null) return;
            _failure = reason;
            // Stop from the reactor thread itself: flux_reactor_stop is not thread-safe.
            _work.Enqueue((() => FluxNative.flux_reactor_stop(_reactor), null));
        }
        Wake();
    }

    /// <summary>Stops the reactor and closes the handle; <see cref="Closing"/> runs first, on the reactor thread.</summary>
    public Task CloseAsync()
    {
        lock (_gate)
        {
            if (!_closed && !_stopRequested)
            {
                _stopRequested = true;
                _work.Enqueue((() => FluxNative.flux_reactor_stop(_reactor), null));
            }
        }
        Wake();
        return _exited.Task;
    }
}
