using System;
using System.Collections.Generic;
using System.IO;

namespace FluxApps;

/// <summary>
/// A program to run as a job's tasks. A <c>[FluxApp]</c> method that returns a <see cref="FluxCommand"/>
/// is a command app (like Parsl's <c>bash_app</c>): the stub calls the method here, in the caller,
/// to build the command line, and the scheduler launches the program itself as every rank of the
/// job, so an MPI program starts with <c>MpiRanks</c> ranks under Flux's PMI. The stub's future
/// gives a <see cref="FluxCommandResult"/>: the exit code and where the output went.
/// </summary>
/// <example>
/// <code>
/// [FluxApp(MpiRanks = 64, Cpus = 2)]
/// public static FluxCommand Lammps(string input) => new("lmp", "-in", input);
/// FluxCommandResult run = await Md.LammpsAsync("in.melt");
/// </code>
/// </example>
public sealed class FluxCommand
{
    /// <summary>A command: the program (a path, or a name looked up on the job's PATH) and its arguments.</summary>
    public FluxCommand(string program, params string[] arguments)
    {
        if (string.IsNullOrWhiteSpace(program))
            throw new ArgumentException($"FluxCommand program \"{program}\" is empty: name the program to run.", nameof(program));
        Program = program;
        Arguments = arguments ?? Array.Empty<string>();
    }

    /// <summary>The program to run.</summary>
    public string Program { get; }

    /// <summary>Its arguments.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Environment variables for the program, on top of the job's (a null value removes one).</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>File for the tasks' standard output (all ranks, appended); default <c>&lt;name&gt;-&lt;time&gt;-&lt;pid&gt;-&lt;call&gt;-&lt;random&gt;.out</c> in the job's working directory.</summary>
    public string? StdoutPath { get; init; }

    /// <summary>File for the tasks' standard error; default <c>&lt;name&gt;-&lt;time&gt;-&lt;pid&gt;-&lt;call&gt;-&lt;random&gt;.err</c> in the job's working directory.</summary>
    public string? StderrPath { get; init; }

    /// <summary>The command line as argv.</summary>
    public IReadOnlyList<string> CommandLine
    {
        get
        {
            var list = new List<string>(Arguments.Count + 1) { Program };
            list.AddRange(Arguments);
            return list;
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(' ', CommandLine);
}

/// <summary>How a command app's job ended: exit code and the files its output went to.</summary>
/// <remarks>
/// Whether a task was killed by a signal is reported where the backend can know it: the local backend
/// reads each task's wait status, and Flux's <c>exec</c> exception (raised for a failing task of a
/// multi-task job) carries it. Where only the exit of Flux's job shell tells (a single-task job on the
/// Flux backend, or the local backend's <c>System.Diagnostics.Process</c> fallback), a task killed by
/// signal N and a program that exited with 128 + N look the same: both give <see cref="ExitCode"/>
/// 128 + N and a null <see cref="Signal"/>, and no signal is guessed. (App methods do not have this
/// limit: their workers record their own exit code, so a missing record means a signal.)
/// </remarks>
/// <param name="JobId">The job that ran the command.</param>
/// <param name="ExitCode">The job's exit code: its failing task's (128 + N when a task was killed by signal N).</param>
/// <param name="Signal">The signal that killed a task, or null (also when the backend could not tell; see remarks).</param>
/// <param name="StdoutPath">The file with the tasks' standard output.</param>
/// <param name="StderrPath">The file with the tasks' standard error.</param>
public sealed record FluxCommandResult(FluxJobId JobId, int ExitCode, int? Signal, string StdoutPath, string StderrPath)
{
    /// <summary>True when every task exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0 && Signal is null;

    /// <summary>Reads the standard output file.</summary>
    public string ReadStdout() => File.Exists(StdoutPath) ? File.ReadAllText(StdoutPath) : "";

    /// <summary>Reads the standard error file.</summary>
    public string ReadStderr() => File.Exists(StderrPath) ? File.ReadAllText(StderrPath) : "";
}
