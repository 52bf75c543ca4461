using System;
using System.Buffers.Binary;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Pools;

/// <summary>
/// The client's end of the local transport: a Unix socket in a directory private to the user (0700), so only
/// this user's processes can reach it at all; each connection must come from a process of this user
/// (<c>SO_PEERCRED</c>) and open with a Hello frame that carries the runtime's secret (compared in constant
/// time). A connection that fails any of this is closed without a word. Accepted ones go to <see cref="Accepted"/>.
/// </summary>
internal sealed partial class PoolListener : IPoolTransport
{
    /// <summary>Environment variable of a worker: the socket to connect to.</summary>
    public const string SocketVariable = "FLUXAPPS_POOL_SOCKET";

    /// <summary>Environment variable of a worker: the secret, hex (never on the command line, where any user could read it).</summary>
    public const string SecretVariable = "FLUXAPPS_POOL_SECRET";

    /// <summary>Environment variable of a worker: its index, which it repeats in its Hello.</summary>
    public const string WorkerVariable = "FLUXAPPS_POOL_WORKER";

    private static readonly TimeSpan s_helloTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string? _privateDirectory;

    /// <summary>Listens at <c>pool.sock</c> in <paramref name="runDirectory"/> (a 0700 directory), or in a private temporary directory when that path is too long for a socket.</summary>
    public PoolListener(string runDirectory)
    {
        Secret = RandomNumberGenerator.GetBytes(PoolFrames.SecretSize);
        string path = Path.Combine(runDirectory, "pool.sock");
        if (System.Text.Encoding.UTF8.GetByteCount(path) > 100) // sun_path holds 108 bytes
        {
            _privateDirectory = Directory.CreateTempSubdirectory("fluxapps-pool-").FullName; // 0700 on Unix
            path = Path.Combine(_privateDirectory, "pool.sock");
        }
        SocketPath = path;
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _socket.Listen(512);
        _accepting = Task.Run(AcceptAsync);
    }

    public string SocketPath { get; }

    public byte[] Secret { get; }

    /// <summary>An authenticated worker connected: its index, pid and socket (the Hello already read). Returns false to refuse it.</summary>
    public Func<long, int, IPoolChannel, bool>? Accepted { get; set; }

    public System.Collections.Generic.IReadOnlyDictionary<string, string?> WorkerEnvironment(long worker) => new System.Collections.Generic.Dictionary<string, string?>
    {
        [SocketVariable] = SocketPath,
        [SecretVariable] = Convert.ToHexString(Secret),
        [WorkerVariable] = worker.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private Task AcceptAsync() =>
        AcceptLoopAsync(token => _socket.AcceptAsync(token), peer => _ = Task.Run(() => HandshakeAsync(peer)), _stop.Token);

    /// <summary>The longest pause after a failed accept.</summary>
    internal static readonly TimeSpan MaxAcceptPause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Accepts connections until <paramref name="stop"/>. A failed accept (out of file descriptors: EMFILE, ENFILE)
    /// fails again at once while the cause lasts, so each failure in a row waits longer (1 ms, doubling, up to
    /// <see cref="MaxAcceptPause"/>) instead of spinning a core; the first success resets the wait.
    /// </summary>
    internal static async Task AcceptLoopAsync(Func<CancellationToken, ValueTask<Socket>> accept, Action<Socket> accepted, CancellationToken stop)
    {
        var pause = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await accept(stop).ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                pause = pause == TimeSpan.Zero ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxAcceptPause.Ticks));
                try
                {
                    await Task.Delay(pause, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            pause = TimeSpan.Zero;
            accepted(peer);
        }
    }

    private async Task HandshakeAsync(Socket peer)
    {
        bool accepted = false;
        try
        {
            if (!IsSameUser(peer)) return;
            var hello = new byte[PoolFrames.HeaderSize + PoolFrames.SecretSize + 4];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(s_helloTimeout);
            int read = 0;
            while (read < hello.Length)
            {
                int n = await peer.ReceiveAsync(hello.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0) return;
                read += n;
            }
            if (BinaryPrimitives.ReadInt32LittleEndian(hello) != hello.Length || hello[4] != (byte)PoolFrames.Kind.Hello) return;
            long worker = BinaryPrimitives.ReadInt64LittleEndian(hello.AsSpan(5));
            var secret = hello.AsSpan(PoolFrames.HeaderSize, PoolFrames.SecretSize);
            if (!CryptographicOperations.FixedTimeEquals(secret, Secret)) return;
            int pid = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(PoolFrames.HeaderSize + PoolFrames.SecretSize));
            var connection = new PoolConnection(peer);
            accepted = Accepted?.Invoke(worker, pid, connection) ?? false;
        }
        catch (Exception)
        {
            // A peer that cannot complete the handshake is simply dropped.
        }
        finally
        {
            if (!accepted) peer.Dispose();
        }
    }

    /// <summary>True when the peer process runs as this process's user (<c>SO_PEERCRED</c>).</summary>
    private static bool IsSameUser(Socket peer)
    {
        if (!OperatingSystem.IsLinux()) return true; // the 0700 directory alone guards it elsewhere
        const int SolSocket = 1, SoPeerCred = 17;
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        int length = peer.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
        if (length < 12) return false;
        uint uid = BinaryPrimitives.ReadUInt32LittleEndian(credentials[4..]);
        return uid == Runtime.PosixFiles.EffectiveUserId;
    }

    /// <summary>Writes a worker's Hello frame: its index, the secret and its pid.</summary>
    public static byte[] BuildHello(long worker, ReadOnlySpan<byte> secret, int pid)
    {
        var hello = new byte[PoolFrames.HeaderSize + PoolFrames.SecretSize + 4];
        PoolFrames.WriteHeader(hello, hello.Length, PoolFrames.Kind.Hello, worker);
        secret.CopyTo(hello.AsSpan(PoolFrames.HeaderSize));
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(PoolFrames.HeaderSize + PoolFrames.SecretSize), pid);
        return hello;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
        _stop.Dispose();
        try
        {
            File.Delete(SocketPath);
            if (_privateDirectory is not null) Directory.Delete(_privateDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
