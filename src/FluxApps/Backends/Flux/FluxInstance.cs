using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace FluxApps.Backends.Flux;

/// <summary>
/// A private Flux instance this process started (<c>flux start</c>), sized by Flux to the machine
/// (or to the allocation a launch command runs it in). Its initial program prints the instance's
/// URI and then waits for its standard input to close: the instance lives exactly as long as this
/// process holds the pipe, so it shuts down when the runtime is disposed, and on its own when this
/// process dies in any way. No broker outlives its owner.
/// </summary>
internal sealed partial class FluxInstance : IAsyncDisposable
{
    /// <summary>The launch command when none is given: <c>flux start</c> on this machine.</summary>
    public const string DefaultLaunchCommand = "{flux} start {program}";

    private const string UriTag = "FLUXAPPS_URI ";
    private const string HostTag = "FLUXAPPS_HOST ";

    /// <summary>
    /// The initial program: report the URI and host, then hold the instance open until stdin closes.
    /// Shell-quoted for the <c>/bin/sh -c</c> the launch command runs in; it contains no single quote.
    /// </summary>
    public const string InitialProgram =
        "sh -c 'printf \"" + UriTag + "%s\\n\" \"$FLUX_URI\"; printf \"" + HostTag + "%s\\n\" \"$(hostname)\"; exec cat >/dev/null'";

    private readonly Process _process;
    private readonly string _logPath;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private FluxInstance(Process process, string command, string logPath)
    {
        _process = process;
        Command = command;
        _logPath = logPath;
    }

    /// <summary>The URI to connect to.</summary>
    public string Uri { get; private set; } = "";

    /// <summary>The shell command that started the instance.</summary>
    public string Command { get; }

    /// <summary>Process id of the launch command (<c>/bin/sh</c> running it).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Completes with the exit code when the instance (the launch command) exits.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>Expands a launch command template: <c>{flux}</c> is the flux executable, <c>{program}</c> the initial program (required).</summary>
    public static string ExpandLaunchCommand(string? template, string fluxPath)
    {
        string t = string.IsNullOrWhiteSpace(template) ? DefaultLaunchCommand : template;
        if (!t.Contains("{program}", StringComparison.Ordinal))
            throw new ArgumentException(
                $"FluxLaunchCommand \"{t}\" has no {{program}}: it must run flux start with FluxApps's initial program, e.g. \"srun -N2 --ntasks-per-node=1 {{flux}} start {{program}}\".");
        return t.Replace("{flux}", ShellQuote(fluxPath), StringComparison.Ordinal)
                .Replace("{program}", InitialProgram, StringComparison.Ordinal);
    }

    /// <summary>Quotes one word for /bin/sh.</summary>
    public static string ShellQuote(string word) =>
        word.Length > 0 && word.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@%") < 0
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// The URI a client on this host uses: the broker's local URI when rank 0 runs here, else the
    /// same socket reached through ssh (as <c>flux uri --remote</c> gives).
    /// </summary>
    public static string ClientUri(string localUri, string brokerHost, string thisHost)
    {
        if (string.IsNullOrEmpty(brokerHost) || !localUri.StartsWith("local://", StringComparison.Ordinal)) return localUri;
        string Short(string h) => h.Split('.')[0];
        if (string.Equals(Short(brokerHost), Short(thisHost), StringComparison.OrdinalIgnoreCase) || brokerHost == "localhost") return localUri;
        return "ssh://" + brokerHost + localUri["local://".Length..];
    }

    /// <summary>
    /// Creates the brokers' log in a shared directory such as /tmp: new (O_EXCL, which never follows a symlink planted at
    /// the name) and readable by this user alone; the sticky bit of /tmp keeps others from replacing it before the shell
    /// opens it for appending. Throws <see cref="FluxConnectionException"/> naming the path when something is there already.
    /// </summary>
    internal static string CreatePrivateLog(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var created = new FileStream(path, options);
        }
        catch (IOException ex)
        {
            throw new FluxConnectionException($"The private Flux instance's log {path} could not be created as a new file of this user's: {ex.Message}", ex);
        }
        return path;
    }

    /// <summary>Starts the instance and waits for its URI; throws <see cref="FluxConnectionException"/> with the broker's own output when it fails.</summary>
    public static async Task<FluxInstance> StartAsync(string fluxPath, string? launchTemplate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string command = ExpandLaunchCommand(launchTemplate, fluxPath);
        string logPath = CreatePrivateLog(ShortTempDirectory(), $"fluxapps-broker-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        psi.ArgumentList.Add("-c");
        // The brokers' own log goes to a file, not a pipe: a pipe this process stops reading (or
        // that closes when it dies) must not be able to block or kill a broker.
        psi.ArgumentList.Add("exec 2>>" + ShellQuote(logPath) + "; " + command);
        // Unix socket paths are limited to 107 bytes: the broker's rundir goes under a short TMPDIR.
        psi.Environment["TMPDIR"] = ShortTempDirectory();
        psi.Environment.Remove("FLUX_URI");
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var instance = new FluxInstance(process, command, logPath);
        var uri = new TaskCompletionSource<(string Uri, string Host)>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? localUri = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith(UriTag, StringComparison.Ordinal)) localUri = e.Data[UriTag.Length..].Trim();
            else if (e.Data.StartsWith(HostTag, StringComparison.Ordinal) && localUri is not null) uri.TrySetResult((localUri, e.Data[HostTag.Length..].Trim()));
        };
        process.Exited += (_, _) =>
        {
            int code;
            try { code = process.ExitCode; } catch (InvalidOperationException) { code = -1; }
            instance._exited.TrySetResult(code);
        };
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            throw new FluxConnectionException($"Could not run the launch command of the private Flux instance ({command}): {ex.Message}", ex);
        }
        process.BeginOutputReadLine();
        try
        {
            var started = uri.Task;
            var first = await Task.WhenAny(started, instance._exited.Task, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
            if (first == started)
            {
                var (local, host) = await started.ConfigureAwait(false);
                if (local.Length == 0) throw new FluxConnectionException($"The private Flux instance reported no FLUX_URI ({command}).");
                instance.Uri = ClientUri(local, host, Environment.MachineName);
                return instance;
            }
            cancellationToken.ThrowIfCancellationRequested();
            string log = instance.LogTail();
            if (first == instance._exited.Task)
                throw new FluxConnectionException(
                    $"The private Flux instance exited with code {await instance._exited.Task.ConfigureAwait(false)} before reporting its URI. Command: {command}{Tail(log)}");
            throw new FluxConnectionException($"The private Flux instance did not report its URI within {timeout.TotalSeconds:0} s. Command: {command}{Tail(log)}");
        }
        catch
        {
            await instance.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Tail(string log) => log.Length == 0 ? "" : Environment.NewLine + "Broker output (tail):" + Environment.NewLine + log;

    /// <summary>The last part of the brokers' log.</summary>
    public string LogTail(int maxBytes = 4096)
    {
        try
        {
            if (!File.Exists(_logPath)) return "";
            using var fs = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long start = Math.Max(0, fs.Length - maxBytes);
            fs.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(fs, Encoding.UTF8);
            return reader.ReadToEnd().TrimEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>A temporary directory whose path leaves room for Flux's socket names.</summary>
    internal static string ShortTempDirectory()
    {
        string tmp = Path.GetTempPath().TrimEnd('/');
        return tmp.Length <= 40 && Directory.Exists(tmp) ? tmp : "/tmp";
    }

    /// <summary>Shuts the instance down: closes its stdin (the initial program exits, the brokers stop), then waits; kills it only if it hangs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            try { _process.StandardInput.Close(); }
            catch (InvalidOperationException) { }
            catch (IOException) { }
            if (!await ExitedWithin(TimeSpan.FromSeconds(20)).ConfigureAwait(false))
            {
                Signal(_process.Id, 15); // SIGTERM: flux start forwards it to the brokers
                if (!await ExitedWithin(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
                {
                    try { _process.Kill(entireProcessTree: true); }
                    catch (InvalidOperationException) { }
                    catch (System.ComponentModel.Win32Exception) { }
                    await ExitedWithin(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _process.Dispose();
            try { File.Delete(_logPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private async Task<bool> ExitedWithin(TimeSpan limit)
    {
        try
        {
            if (_exited.Task.IsCompleted) return true;
            bool started;
            try { _ = _process.Id; started = true; } catch (InvalidOperationException) { started = false; }
            if (!started) return true;
            await _exited.Task.WaitAsync(limit).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);

    private static void Signal(int pid, int signal)
    {
        if (pid > 0) SysKill(pid, signal);
    }
}
