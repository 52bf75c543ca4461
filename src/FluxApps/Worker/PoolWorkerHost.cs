using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FluxApps.Pools;
using FluxApps.Runtime;
using FluxApps.Serialization;
using FluxApps.Telemetry;

namespace FluxApps.Worker;

/// <summary>
/// A pool worker: a long-lived process (one job of the backend) that dials its client, proves it holds the
/// runtime's secret, and runs the calls it is sent concurrently on the thread pool, through the same registry
/// and generated entry points as a job of its own, until told to stop or until the client goes away.
/// </summary>
internal static class PoolWorkerHost
{
    private static readonly ConcurrentDictionary<long, CancellationTokenSource> s_running = new();

    /// <summary>The calls running now, by id, with their token sources (a returning call removes, then disposes its own).</summary>
    internal static ConcurrentDictionary<long, CancellationTokenSource> Running => s_running;
    private static readonly TaskCompletionSource<int> s_exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static IPoolChannel? s_connection;
    private static int[] s_gpus = Array.Empty<int>();
    private static int s_stopping;

    /// <summary>Serves calls until stopped; returns the exit code.</summary>
    public static int Run()
    {
        string? socketPath = Environment.GetEnvironmentVariable(PoolListener.SocketVariable);
        string? fluxService = Environment.GetEnvironmentVariable(Backends.Flux.FluxPoolTransport.ServiceVariable);
        string? secretHex = Environment.GetEnvironmentVariable(PoolListener.SecretVariable);
        long index = FluxWorker.ParseNonNegative(Environment.GetEnvironmentVariable(PoolListener.WorkerVariable), -1);
        // The app's own children must not inherit the secret.
        Environment.SetEnvironmentVariable(PoolListener.SecretVariable, null);
        if ((string.IsNullOrEmpty(socketPath) && string.IsNullOrEmpty(fluxService)) || string.IsNullOrEmpty(secretHex) || index < 0)
        {
            Console.Error.WriteLine($"FluxApps pool worker: {PoolListener.SocketVariable} (or {Backends.Flux.FluxPoolTransport.ServiceVariable}), {PoolListener.SecretVariable} and {PoolListener.WorkerVariable} must be set.");
            return FluxWorker.WorkerFailedExitCode;
        }
        string? jobDirectory = Environment.GetEnvironmentVariable(WorkerCommand.JobDirectoryVariable);
        // The code this process exits with: a worker killed by a signal leaves none, which tells the client a signal from exit 128 + N.
        if (!string.IsNullOrEmpty(jobDirectory))
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Payload.WriteExitRecord(jobDirectory, 0, Environment.ExitCode);
        s_gpus = FluxAppContext.VisibleGpus();
        int cores = Environment.ProcessorCount;
        ThreadPool.GetMinThreads(out int workers, out int io);
        // Apps that block (sleep, I/O) should not wait for the thread pool to inject threads one by one.
        ThreadPool.SetMinThreads(Math.Max(workers, cores * 4 + 4), io);
        CallConsole.Install();

        var connection = Connect(socketPath, fluxService, secretHex, index);
        if (connection is null) return FluxWorker.WorkerFailedExitCode;
        s_connection = connection;
        connection.FrameReceived = OnFrame;
        // The client went away (ended, crashed): nothing here is wanted any more.
        connection.Closed = _ => s_exit.TrySetResult(0);
        connection.Start();
        int code = s_exit.Task.GetAwaiter().GetResult();
        Environment.ExitCode = code;
        return code;
    }

    /// <summary>Reaches the client: over Flux messaging when a Flux service is named, else over the Unix socket; null (reported) when it cannot.</summary>
    private static IPoolChannel? Connect(string? socketPath, string? fluxService, string secretHex, long index)
    {
        if (!string.IsNullOrEmpty(fluxService))
        {
            try
            {
                return Backends.Flux.FluxPoolWorkerChannel.Connect(fluxService, Convert.FromHexString(secretHex), index);
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"FluxApps pool worker: cannot reach the client's Flux service {fluxService}: {ex.Message}");
                return null;
            }
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath!));
            socket.Send(PoolListener.BuildHello(index, Convert.FromHexString(secretHex), Environment.ProcessId));
        }
        catch (Exception ex) when (ex is SocketException or FormatException)
        {
            Console.Error.WriteLine($"FluxApps pool worker: cannot reach the client at {socketPath}: {ex.Message}");
            socket.Dispose();
            return null;
        }
        return new PoolConnection(socket);
    }

    internal static void OnFrame(PoolFrames.Kind kind, long id, ReadOnlySequence<byte> body)
    {
        switch (kind)
        {
            case PoolFrames.Kind.Call:
                var cancellation = new CancellationTokenSource();
                s_running[id] = cancellation;
                var call = new Call(id, body.ToArray(), cancellation);
                ThreadPool.UnsafeQueueUserWorkItem(static c => _ = RunAsync(c), call, preferLocal: false);
                break;
            case PoolFrames.Kind.Cancel:
                if (s_running.TryGetValue(id, out var running))
                {
                    try
                    {
                        running.Cancel();
                    }
                    catch (AggregateException ex)
                    {
                        Console.Error.WriteLine($"FluxApps pool worker: a cancellation callback of call {id} threw: {ex.InnerException?.Message}");
                    }
                    catch (ObjectDisposedException)
                    {
                        // The call returned (and dropped its token source) between the lookup and the cancel: nothing to cancel.
                    }
                }
                break;
            case PoolFrames.Kind.Stop:
                Volatile.Write(ref s_stopping, 1);
                StopIfIdle();
                break;
        }
    }

    private sealed record Call(long Id, byte[] Body, CancellationTokenSource Cancellation);

    private static async Task RunAsync(Call call)
    {
        FluxReader? arguments = null;
        FluxWriter? result = null;
        object? activity = null; // the call's activity (WorkerActivity) when it carries a trace
        PoolFrames.Outcome outcome;
        ReadOnlyMemory<byte> payload;
        var console = CallConsole.Begin();
        try
        {
            var body = call.Body;
            int gpuCount = BinaryPrimitives.ReadInt32LittleEndian(body);
            if (gpuCount < 0 || gpuCount > s_gpus.Length + 1024) throw new FluxPayloadException($"the call names {gpuCount} GPU slots.");
            var gpuIds = new int[gpuCount];
            for (int i = 0; i < gpuCount; i++)
            {
                int slot = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(4 + 4 * i));
                gpuIds[i] = slot >= 0 && slot < s_gpus.Length ? s_gpus[slot] : slot;
            }
            int offset = 4 + 4 * gpuCount;
            int traceLength = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(offset));
            if (traceLength < 0 || traceLength > 4096) throw new FluxPayloadException($"the call's trace context is {traceLength} bytes.");
            string? trace = traceLength == 0 ? null : Encoding.UTF8.GetString(body, offset + 4, traceLength);
            offset += 4 + traceLength;
            var placement = (PoolFrames.Placement)body[offset++];
            if (placement == PoolFrames.Placement.InFile)
            {
                // Too large for a frame: the client left the arguments in a file of the run directory.
                string file = Encoding.UTF8.GetString(body, offset, body.Length - offset);
                byte[] bytes = RawFile.ReadAllBytes(file);
                RunDirectories.TryDeleteFile(file);
                arguments = new FluxReader(bytes);
            }
            else if (placement == PoolFrames.Placement.Inline)
            {
                arguments = new FluxReader(body.AsMemory(offset).ToArray());
            }
            else
            {
                throw new FluxPayloadException($"the call's arguments placement {(byte)placement} is unknown.");
            }
            var header = Payload.ReadArgumentsHeader(arguments, "pool call");
            var (app, entry) = FluxWorker.FindApp(header);
            FluxAppRegistry.RunWorkerStartups();
            FluxAppContext.SetPooledCall(FluxAppContext.ForPooledCall(gpuIds));
            if (trace is not null)
            {
                int newline = trace.IndexOf('\n');
                activity = WorkerActivity.Start(app.DisplayName, newline < 0 ? trace : trace[..newline], newline < 0 ? null : trace[(newline + 1)..]);
            }
            result = Payload.BeginResult();
            await entry(arguments, result, call.Cancellation.Token).ConfigureAwait(false);
            WorkerActivity.Stop(activity, null);
            outcome = PoolFrames.Outcome.Result;
            payload = result.WrittenMemory;
        }
        catch (Exception ex)
        {
            WorkerActivity.Stop(activity, ex);
            var report = FluxWorker.ErrorReportFor(ex, arguments, result, 0);
            outcome = report.Kind == Payload.ErrorKind.AppException ? PoolFrames.Outcome.AppException : PoolFrames.Outcome.WorkerError;
            payload = Payload.BuildError(report).WrittenMemory;
        }
        finally
        {
            FluxAppContext.SetPooledCall(null);
        }
        string tail = CallConsole.End(console);
        s_running.TryRemove(call.Id, out _);
        call.Cancellation.Dispose();
        byte flags = 0;
        if (payload.Length > PoolFrames.InlineLimit)
        {
            if (PayloadFile(call.Id, payload.Span) is { } file)
            {
                payload = Encoding.UTF8.GetBytes(file);
                flags = PoolFrames.InFileFlag;
            }
            else
            {
                // Never a frame over the limit (the client would drop the connection, and every call on it).
                outcome = PoolFrames.Outcome.WorkerError;
                payload = Payload.BuildError(new Payload.ErrorReport(Payload.ErrorKind.WorkerError, 0, "System.IO.IOException",
                    $"the {payload.Length}-byte payload is too large for a frame and could not be written to the worker's directory (see its stderr).", "")).WrittenMemory;
            }
        }
        var head = new byte[5];
        head[0] = (byte)((byte)outcome | flags);
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(1), payload.Length);
        byte[] tailBytes = tail.Length == 0 ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(tail);
        s_connection!.Send(PoolFrames.Kind.Done, call.Id, head, payload.Span, tailBytes);
        StopIfIdle();
    }

    /// <summary>
    /// Writes a result too large for a frame into this worker's job directory (which the client reads and then deletes),
    /// returning its path; null when it cannot (then the frame carries an error report saying so).
    /// </summary>
    private static string? PayloadFile(long callId, ReadOnlySpan<byte> payload)
    {
        string? directory = Environment.GetEnvironmentVariable(WorkerCommand.JobDirectoryVariable);
        if (string.IsNullOrEmpty(directory)) return null;
        string path = System.IO.Path.Combine(directory, $"result-{callId.ToString(System.Globalization.CultureInfo.InvariantCulture)}.bin");
        try
        {
            Payload.WriteFile(path, payload);
            return path;
        }
        catch (Exception ex) when (ex is System.IO.IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"FluxApps pool worker: the {payload.Length}-byte result of call {callId} could not be written to {path}: {ex.Message}");
            RunDirectories.TryDeleteFile(path);
            return null;
        }
    }

    /// <summary>After a Stop: once no call runs, send what is queued and exit.</summary>
    private static void StopIfIdle()
    {
        if (Volatile.Read(ref s_stopping) == 0 || !s_running.IsEmpty) return;
        _ = Task.Run(async () =>
        {
            await s_connection!.FinishSendingAsync().ConfigureAwait(false);
            s_exit.TrySetResult(0);
        });
    }
}
