using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Pools;

namespace FluxApps.Backends.Flux;

/// <summary>
/// The pool transport of the Flux backend: Flux's own messaging, over the instance's overlay network, so
/// workers may run on any broker rank (node) and nothing new listens anywhere. The client registers a service
/// (<c>&lt;uid&gt;-fluxapps-&lt;runtime id&gt;</c>) on its broker; each worker registers
/// <c>&lt;client service&gt;-w&lt;index&gt;</c> on its own broker and announces itself with a <c>hello</c> RPC
/// to the client's service (routed upstream to it), carrying the runtime's secret, its pid and its rank. Each
/// frame to a worker is then one <c>flux_rpc_raw</c> addressed to the worker's rank; a call's result is the
/// response to its RPC (so results need no routing of their own). The broker authenticates every message's
/// sender: both sides take only messages of this user, and every frame also carries the secret.
/// </summary>
internal sealed unsafe class FluxPoolTransport : IPoolTransport
{
    /// <summary>Environment variable of a worker: the client's service name (its presence selects this transport).</summary>
    public const string ServiceVariable = "FLUXAPPS_POOL_FLUX_SERVICE";

    /// <summary>Every pool RPC in flight in this process: its future, the channel and the call id (-1 for control frames).</summary>
    private static readonly ConcurrentDictionary<nint, (FluxPoolChannel Channel, long Id)> s_inFlight = new();

    private readonly FluxConnection _connection;
    private readonly HashSet<FluxPoolChannel> _channels = new(); // reactor thread only
    private GCHandle _self;
    private nint _handler;
    private nint _glob;
    private nint _register;
    private bool _closed;

    public FluxPoolTransport(FluxConnection connection)
    {
        _connection = connection;
        Secret = RandomNumberGenerator.GetBytes(PoolFrames.SecretSize);
        // Guests of a multi-user instance may register only names that start with their uid.
        Service = $"{Errno.geteuid()}-fluxapps-{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}";
        _self = GCHandle.Alloc(this);
        if (!_connection.Post(RegisterOnReactor)) _self.Free();
    }

    /// <summary>The client's service name.</summary>
    public string Service { get; }

    public byte[] Secret { get; }

    internal FluxConnection Connection => _connection;

    public Func<long, int, IPoolChannel, bool>? Accepted { get; set; }

    public IReadOnlyDictionary<string, string?> WorkerEnvironment(long worker)
    {
        var environment = new Dictionary<string, string?>
        {
            [ServiceVariable] = Service,
            [PoolListener.SecretVariable] = Convert.ToHexString(Secret),
            [PoolListener.WorkerVariable] = worker.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // The worker loads the same libflux-core as this process.
        if (FluxLibrary.LoadedFrom is { } library && File.Exists(library)) environment[FluxLibrary.PathVariable] = library;
        return environment;
    }

    /// <summary>The service of the worker of that index.</summary>
    public string WorkerService(long worker) => $"{Service}-w{worker.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private void RegisterOnReactor()
    {
        nint h = _connection.Handle;
        _glob = Marshal.StringToCoTaskMemUTF8(Service + ".*");
        var match = new FluxNative.FluxMatch { TypeMask = FluxNative.FLUX_MSGTYPE_REQUEST, MatchTag = 0, TopicGlob = (byte*)_glob };
        _handler = FluxNative.flux_msg_handler_create(h, match, &OnRequest, GCHandle.ToIntPtr(_self));
        if (_handler == 0)
        {
            Console.Error.WriteLine($"FluxApps: pools: flux_msg_handler_create failed: {Errno.Describe(Errno.Last())}");
            return;
        }
        // Guests' messages carry FLUX_ROLE_USER; OnRequest admits only this user's.
        FluxNative.flux_msg_handler_allow_rolemask(_handler, FluxNative.FLUX_ROLE_USER);
        FluxNative.flux_msg_handler_start(_handler);
        _register = FluxNative.flux_service_register(h, Service);
        if (_register == 0 || FluxNative.flux_future_then(_register, -1.0, &OnRegistered, GCHandle.ToIntPtr(_self)) < 0)
            Console.Error.WriteLine($"FluxApps: pools: could not register the Flux service {Service}: {Errno.Describe(Errno.Last())}");
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnRegistered(nint future, nint arg)
    {
        if (GCHandle.FromIntPtr(arg).Target is not FluxPoolTransport self) return;
        if (FluxNative.flux_future_get(future, null) < 0)
            Console.Error.WriteLine($"FluxApps: pools: could not register the Flux service {self.Service}: {FluxNative.ErrorText(future, Errno.Last())}");
        FluxNative.flux_future_destroy(future);
        self._register = 0;
    }

    /// <summary>True when the message comes from this process's user (the broker sets the userid; nobody else can).</summary>
    internal static bool FromThisUser(nint msg)
    {
        uint userid;
        return FluxNative.flux_msg_get_userid(msg, &userid) == 0 && userid == Errno.geteuid();
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnRequest(nint h, nint mh, nint msg, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is not FluxPoolTransport self) return;
            byte* topic;
            void* data;
            nuint length;
            if (FluxNative.flux_request_decode_raw(msg, &topic, &data, &length) < 0) return;
            if (!FromThisUser(msg))
            {
                FluxNative.flux_respond_error(h, msg, FluxNative.EPERM, null);
                return;
            }
            string name = Marshal.PtrToStringUTF8((nint)topic) ?? "";
            if (name.EndsWith(".ping", StringComparison.Ordinal))
            {
                FluxNative.flux_respond_raw(h, msg, null, 0);
                return;
            }
            var hello = new ReadOnlySpan<byte>(data, (int)Math.Min(length, 4096));
            const int HelloSize = PoolFrames.HeaderSize + PoolFrames.SecretSize + 4;
            if (!name.EndsWith(".hello", StringComparison.Ordinal) || hello.Length != HelloSize + 4
                || BinaryPrimitives.ReadInt32LittleEndian(hello) != HelloSize || hello[4] != (byte)PoolFrames.Kind.Hello
                || !CryptographicOperations.FixedTimeEquals(hello.Slice(PoolFrames.HeaderSize, PoolFrames.SecretSize), self.Secret))
            {
                FluxNative.flux_respond_error(h, msg, FluxNative.EPERM, null);
                return;
            }
            long worker = BinaryPrimitives.ReadInt64LittleEndian(hello[5..]);
            int pid = BinaryPrimitives.ReadInt32LittleEndian(hello[(PoolFrames.HeaderSize + PoolFrames.SecretSize)..]);
            uint rank = BinaryPrimitives.ReadUInt32LittleEndian(hello[HelloSize..]);
            var channel = new FluxPoolChannel(self, self.WorkerService(worker), rank);
            self._channels.Add(channel);
            FluxNative.flux_msg_incref(msg);
            // The pool decides off the reactor thread (it takes its lock and sends the first calls).
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                bool accepted = false;
                try
                {
                    accepted = self.Accepted?.Invoke(worker, pid, channel) ?? false;
                }
                finally
                {
                    if (!accepted) _ = channel.DisposeAsync();
                    if (!self._connection.Post(() =>
                        {
                            if (accepted) FluxNative.flux_respond_raw(self._connection.Handle, msg, null, 0);
                            else FluxNative.flux_respond_error(self._connection.Handle, msg, FluxNative.EPERM, null);
                            FluxNative.flux_msg_decref(msg);
                        }))
                    {
                        channel.Close(new IOException("the connection to Flux is closed"));
                    }
                }
            }, null);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: pools: unexpected error handling a request: " + ex);
        }
    }

    /// <summary>Sends one frame to a worker (reactor thread); false when it cannot be sent.</summary>
    internal bool SendOnReactor(FluxPoolChannel channel, long callId, byte[] request)
    {
        if (_closed) return false;
        nint future;
        fixed (byte* data = request)
            future = FluxNative.flux_rpc_raw(_connection.Handle, (byte*)channel.Topic, data, (nuint)request.Length, channel.Rank, 0);
        if (future == 0) return false;
        s_inFlight[future] = (channel, callId);
        if (FluxNative.flux_future_then(future, -1.0, &OnResponse, 0) < 0)
        {
            s_inFlight.TryRemove(future, out _);
            FluxNative.flux_future_destroy(future);
            return false;
        }
        return true;
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnResponse(nint future, nint arg)
    {
        try
        {
            if (!s_inFlight.TryRemove(future, out var entry))
            {
                FluxNative.flux_future_destroy(future);
                return;
            }
            void* data;
            nuint length;
            if (FluxNative.flux_rpc_get_raw(future, &data, &length) < 0)
            {
                string why = FluxNative.ErrorText(future, Errno.Last());
                FluxNative.flux_future_destroy(future);
                // The worker's service is gone (ENOSYS: it exited) or its broker is unreachable: the worker takes no more calls.
                entry.Channel.Close(new IOException($"pool worker service {entry.Channel.Service} on rank {entry.Channel.Rank}: {why}"));
                return;
            }
            if (entry.Id < 0)
            {
                FluxNative.flux_future_destroy(future);
                return;
            }
            byte[] body = new ReadOnlySpan<byte>(data, checked((int)length)).ToArray();
            FluxNative.flux_future_destroy(future);
            entry.Channel.Received(entry.Id, body);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps: pools: unexpected error handling a response: " + ex);
        }
    }

    /// <summary>Destroys the channel's RPCs still in flight (reactor thread): the worker is gone, nobody will answer them.</summary>
    internal void ForgetOnReactor(FluxPoolChannel channel)
    {
        foreach (var (future, entry) in s_inFlight)
        {
            if (entry.Channel != channel || !s_inFlight.TryRemove(future, out _)) continue;
            FluxNative.flux_future_destroy(future);
        }
        _channels.Remove(channel);
        channel.FreeTopic();
    }

    /// <summary>The connection is closing (reactor thread, before the handle closes): every future and handler goes.</summary>
    internal void OnReactorClosing()
    {
        if (_closed) return;
        _closed = true;
        foreach (var channel in new List<FluxPoolChannel>(_channels))
        {
            ForgetOnReactor(channel);
            channel.Close(new IOException("the connection to Flux is closed"));
        }
        if (_register != 0)
        {
            FluxNative.flux_future_destroy(_register);
            _register = 0;
        }
        if (_handler != 0)
        {
            FluxNative.flux_msg_handler_stop(_handler);
            FluxNative.flux_msg_handler_destroy(_handler);
            _handler = 0;
        }
        if (_glob != 0)
        {
            Marshal.FreeCoTaskMem(_glob);
            _glob = 0;
        }
        if (_self.IsAllocated) _self.Free();
    }

    public ValueTask DisposeAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_connection.Post(() =>
            {
                OnReactorClosing();
                done.TrySetResult();
            }, _ => done.TrySetResult()))
            return ValueTask.CompletedTask;
        return new ValueTask(done.Task);
    }
}

/// <summary>The client's channel to one worker of a Flux pool: each frame is an RPC to the worker's service at its rank.</summary>
internal sealed class FluxPoolChannel : IPoolChannel
{
    private readonly FluxPoolTransport _transport;
    private int _closed;

    private readonly Runtime.SerialWork _settling = new();

    public FluxPoolChannel(FluxPoolTransport transport, string service, uint rank)
    {
        _transport = transport;
        Service = service;
        Rank = rank;
        Topic = Marshal.StringToCoTaskMemUTF8(service + ".frame");
    }

    public string Service { get; }

    /// <summary>The broker rank the worker runs on (its node).</summary>
    public uint Rank { get; }

    /// <summary>The request topic, NUL-terminated UTF-8 (freed on the reactor thread when the channel is forgotten).</summary>
    public nint Topic { get; private set; }

    public PoolConnection.FrameHandler? FrameReceived { get; set; }

    public Action<Exception?>? Closed { get; set; }

    public void Start()
    {
    }

    public bool Send(PoolFrames.Kind kind, long id, ReadOnlySpan<byte> body = default, ReadOnlySpan<byte> more = default, ReadOnlySpan<byte> last = default)
    {
        if (Volatile.Read(ref _closed) != 0) return false;
        int length = PoolFrames.HeaderSize + body.Length + more.Length + last.Length;
        var request = new byte[PoolFrames.SecretSize + length];
        _transport.Secret.CopyTo(request, 0);
        var frame = request.AsSpan(PoolFrames.SecretSize);
        PoolFrames.WriteHeader(frame, length, kind, id);
        body.CopyTo(frame[PoolFrames.HeaderSize..]);
        more.CopyTo(frame[(PoolFrames.HeaderSize + body.Length)..]);
        last.CopyTo(frame[(PoolFrames.HeaderSize + body.Length + more.Length)..]);
        long callId = kind == PoolFrames.Kind.Call ? id : -1;
        bool posted = _transport.Connection.Post(() =>
        {
            if (Volatile.Read(ref _closed) != 0) return;
            if (!_transport.SendOnReactor(this, callId, request))
                Close(new IOException($"could not send to pool worker service {Service} on rank {Rank}: {Errno.Describe(Errno.Last())}"));
        });
        if (!posted) Close(new IOException("the connection to Flux is closed"));
        return posted;
    }

    /// <summary>
    /// A call's response arrived (reactor thread). It is settled off the reactor (a big result is read from a file,
    /// a checkpoint written and flushed), in order with the channel's end.
    /// </summary>
    internal void Received(long id, byte[] body)
    {
        if (Volatile.Read(ref _closed) != 0) return;
        _settling.Post(() => FrameReceived?.Invoke(PoolFrames.Kind.Done, id, new ReadOnlySequence<byte>(body)));
    }

    public Task FinishSendingAsync() => Task.CompletedTask;

    /// <summary>Ends the channel: no more frames go out or come in; <see cref="Closed"/> fires once.</summary>
    public void Close(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _settling.Post(() => Closed?.Invoke(reason)); // after the results that arrived before the end
    }

    internal void FreeTopic()
    {
        if (Topic == 0) return;
        Marshal.FreeCoTaskMem(Topic);
        Topic = 0;
    }

    public ValueTask DisposeAsync()
    {
        Close(null);
        _transport.Connection.Post(() => _transport.ForgetOnReactor(this));
        return ValueTask.CompletedTask;
    }
}
