using System;
using System.Buffers;
using System.Buffers.Binary;
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
/// A Flux pool worker's channel to its client (<see cref="FluxPoolTransport"/>): the worker registers its
/// service on its own broker, takes each frame as a request (only this user's, carrying the runtime's secret),
/// answers a call's request with its Done frame body when the call returns, and pings the client's service
/// every few seconds: when it is gone (the client ended or crashed), the channel closes and the worker exits.
/// </summary>
internal sealed unsafe class FluxPoolWorkerChannel : IPoolChannel
{
    private static readonly TimeSpan s_heartbeat = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_helloPatience = TimeSpan.FromSeconds(60);
    private static FluxPoolWorkerChannel? s_instance;

    private readonly FluxConnection _connection;
    private readonly string _clientService;
    private readonly byte[] _secret;
    private readonly long _index;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<long, nint> _requests = new(); // reactor thread only: a call's request, answered when it returns
    private readonly List<(PoolFrames.Kind Kind, long Id, byte[] Body)> _early = new(); // reactor thread only: frames before Start
    private readonly System.Diagnostics.Stopwatch _helloClock = System.Diagnostics.Stopwatch.StartNew();
    private nint _handler;
    private nint _glob;
    private nint _helloTopic;
    private nint _pingTopic;
    private uint _rank;
    private bool _started;
    private int _closed;
    private Timer? _heartbeat;

    private FluxPoolWorkerChannel(FluxConnection connection, string clientService, byte[] secret, long index)
    {
        _connection = connection;
        _clientService = clientService;
        _secret = secret;
        _index = index;
    }

    public PoolConnection.FrameHandler? FrameReceived { get; set; }

    public Action<Exception?>? Closed { get; set; }

    /// <summary>The broker rank this worker runs on.</summary>
    public uint Rank => _rank;

    /// <summary>Connects to this job's broker, registers the worker's service and announces it to the client; throws when that fails.</summary>
    public static FluxPoolWorkerChannel Connect(string clientService, byte[] secret, long index)
    {
        FluxLibrary.Load(null);
        string uri = Environment.GetEnvironmentVariable("FLUX_URI") ?? throw new IOException("FLUX_URI is not set: a Flux pool worker runs as a Flux job.");
        var connection = FluxConnection.OpenAsync(uri, CancellationToken.None).GetAwaiter().GetResult();
        var channel = new FluxPoolWorkerChannel(connection, clientService, secret, index);
        s_instance = channel;
        connection.Closing = failure => channel.Close(new IOException(failure ?? "the connection to Flux was closed"));
        if (!connection.Post(channel.RegisterOnReactor)) throw new IOException(connection.Failure ?? "the connection to Flux is closed");
        try
        {
            channel._ready.Task.GetAwaiter().GetResult();
        }
        catch
        {
            _ = connection.CloseAsync();
            throw;
        }
        return channel;
    }

    private string Service => $"{_clientService}-w{_index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private void RegisterOnReactor()
    {
        nint h = _connection.Handle;
        uint rank;
        if (FluxNative.flux_get_rank(h, &rank) == 0) _rank = rank;
        _glob = Marshal.StringToCoTaskMemUTF8(Service + ".*");
        _helloTopic = Marshal.StringToCoTaskMemUTF8(_clientService + ".hello");
        _pingTopic = Marshal.StringToCoTaskMemUTF8(_clientService + ".ping");
        var match = new FluxNative.FluxMatch { TypeMask = FluxNative.FLUX_MSGTYPE_REQUEST, MatchTag = 0, TopicGlob = (byte*)_glob };
        _handler = FluxNative.flux_msg_handler_create(h, match, &OnRequest, 0);
        if (_handler == 0)
        {
            _ready.TrySetException(new IOException($"flux_msg_handler_create: {Errno.Describe(Errno.Last())}"));
            return;
        }
        FluxNative.flux_msg_handler_allow_rolemask(_handler, FluxNative.FLUX_ROLE_USER);
        FluxNative.flux_msg_handler_start(_handler);
        nint future = FluxNative.flux_service_register(h, Service);
        if (future == 0 || FluxNative.flux_future_then(future, -1.0, &OnRegistered, 0) < 0)
            _ready.TrySetException(new IOException($"flux_service_register({Service}): {Errno.Describe(Errno.Last())}"));
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnRegistered(nint future, nint arg)
    {
        var self = s_instance!;
        if (FluxNative.flux_future_get(future, null) < 0)
        {
            self._ready.TrySetException(new IOException($"flux_service_register({self.Service}): {FluxNative.ErrorText(future, Errno.Last())}"));
            FluxNative.flux_future_destroy(future);
            return;
        }
        FluxNative.flux_future_destroy(future);
        self.SendHello();
    }

    /// <summary>Announces this worker to the client (reactor thread): its index, the secret, its pid and rank, routed upstream to the client's service.</summary>
    private void SendHello()
    {
        var hello = new byte[PoolFrames.HeaderSize + PoolFrames.SecretSize + 8];
        PoolListener.BuildHello(_index, _secret, Environment.ProcessId).CopyTo(hello, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(hello.Length - 4), _rank);
        nint future;
        fixed (byte* data = hello) future = FluxNative.flux_rpc_raw(_connection.Handle, (byte*)_helloTopic, data, (nuint)hello.Length, FluxNative.FLUX_NODEID_ANY, 0);
        if (future == 0 || FluxNative.flux_future_then(future, -1.0, &OnHelloAnswered, 0) < 0)
            _ready.TrySetException(new IOException($"could not reach the client's service {_clientService}: {Errno.Describe(Errno.Last())}"));
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnHelloAnswered(nint future, nint arg)
    {
        var self = s_instance!;
        int rc = FluxNative.flux_rpc_get_raw(future, null, null);
        int errno = rc < 0 ? Errno.Last() : 0;
        string why = rc < 0 ? FluxNative.ErrorText(future, errno) : "";
        FluxNative.flux_future_destroy(future);
        if (rc == 0)
        {
            self._ready.TrySetResult();
            self._heartbeat = new Timer(static state => ((FluxPoolWorkerChannel)state!)._connection.Post(((FluxPoolWorkerChannel)state!).Ping),
                self, s_heartbeat, s_heartbeat);
            return;
        }
        if (errno == FluxNative.ENOSYS && self._helloClock.Elapsed < s_helloPatience)
        {
            // The client's service is not registered yet: try again shortly.
            _ = Task.Delay(50).ContinueWith(_ => self._connection.Post(self.SendHello), TaskScheduler.Default);
            return;
        }
        self._ready.TrySetException(new IOException($"the client's service {self._clientService} refused or did not answer this worker: {why}"));
    }

    /// <summary>Checks the client is still there (reactor thread); when its service is gone, the channel closes.</summary>
    private void Ping()
    {
        nint future = FluxNative.flux_rpc_raw(_connection.Handle, (byte*)_pingTopic, null, 0, FluxNative.FLUX_NODEID_ANY, 0);
        if (future == 0 || FluxNative.flux_future_then(future, 30.0, &OnPingAnswered, 0) < 0)
        {
            if (future != 0) FluxNative.flux_future_destroy(future);
            Close(new IOException($"could not ping the client's service: {Errno.Describe(Errno.Last())}"));
        }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnPingAnswered(nint future, nint arg)
    {
        var self = s_instance!;
        int rc = FluxNative.flux_rpc_get_raw(future, null, null);
        string why = rc < 0 ? FluxNative.ErrorText(future, Errno.Last()) : "";
        FluxNative.flux_future_destroy(future);
        if (rc < 0) self.Close(new IOException($"the client's service {self._clientService} is gone: {why}"));
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnRequest(nint h, nint mh, nint msg, nint arg)
    {
        try
        {
            var self = s_instance!;
            void* data;
            nuint length;
            if (FluxNative.flux_request_decode_raw(msg, null, &data, &length) < 0) return;
            var request = new ReadOnlySpan<byte>(data, checked((int)length));
            if (!FluxPoolTransport.FromThisUser(msg) || request.Length < PoolFrames.SecretSize + PoolFrames.HeaderSize
                || !CryptographicOperations.FixedTimeEquals(request[..PoolFrames.SecretSize], self._secret)
                || BinaryPrimitives.ReadInt32LittleEndian(request[PoolFrames.SecretSize..]) != request.Length - PoolFrames.SecretSize)
            {
                FluxNative.flux_respond_error(h, msg, FluxNative.EPERM, null);
                return;
            }
            var frame = request[PoolFrames.SecretSize..];
            var kind = (PoolFrames.Kind)frame[4];
            long id = BinaryPrimitives.ReadInt64LittleEndian(frame[5..]);
            byte[] body = frame[PoolFrames.HeaderSize..].ToArray();
            if (kind == PoolFrames.Kind.Call)
            {
                // Answered with the call's outcome when it returns (Send).
                self._requests[id] = FluxNative.flux_msg_incref(msg);
            }
            else
            {
                FluxNative.flux_respond_raw(h, msg, null, 0);
            }
            if (self._started) self.FrameReceived?.Invoke(kind, id, new ReadOnlySequence<byte>(body));
            else self._early.Add((kind, id, body));
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("FluxApps pool worker: unexpected error handling a request: " + ex);
        }
    }

    public void Start()
    {
        _connection.Post(() =>
        {
            _started = true;
            foreach (var (kind, id, body) in _early) FrameReceived?.Invoke(kind, id, new ReadOnlySequence<byte>(body));
            _early.Clear();
        });
    }

    /// <summary>Answers a call's request with the frame's body (only Done frames travel this way).</summary>
    public bool Send(PoolFrames.Kind kind, long id, ReadOnlySpan<byte> body = default, ReadOnlySpan<byte> more = default, ReadOnlySpan<byte> last = default)
    {
        if (kind != PoolFrames.Kind.Done || Volatile.Read(ref _closed) != 0) return false;
        var response = new byte[body.Length + more.Length + last.Length];
        body.CopyTo(response);
        more.CopyTo(response.AsSpan(body.Length));
        last.CopyTo(response.AsSpan(body.Length + more.Length));
        return _connection.Post(() =>
        {
            if (!_requests.Remove(id, out nint msg)) return;
            fixed (byte* data = response)
            {
                if (FluxNative.flux_respond_raw(_connection.Handle, msg, data, response.Length) < 0)
                    Console.Error.WriteLine($"FluxApps pool worker: could not answer call {id}: {Errno.Describe(Errno.Last())}");
            }
            FluxNative.flux_msg_decref(msg);
        });
    }

    /// <summary>Waits until every answer handed to <see cref="Send"/> has gone to the broker.</summary>
    public Task FinishSendingAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_connection.Post(() => done.TrySetResult(), _ => done.TrySetResult())) done.TrySetResult();
        return done.Task;
    }

    private void Close(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _heartbeat?.Dispose();
        Closed?.Invoke(reason);
    }

    public ValueTask DisposeAsync()
    {
        Close(null);
        return new ValueTask(_connection.CloseAsync());
    }
}
