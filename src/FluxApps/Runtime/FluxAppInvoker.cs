using System;
using System.ComponentModel;
using System.Threading;
using FluxApps.Serialization;

namespace FluxApps.Runtime;

/// <summary>Entry points of the generated stubs: validate, submit (or describe, in a <see cref="FluxDryRun"/>), return the future.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FluxAppInvoker
{
    /// <summary>A writer for a call's arguments.</summary>
    public static FluxWriter CreateArgumentWriter() => new(128);

    /// <summary>Submits a call whose app returns a value.</summary>
    /// <exception cref="ArgumentException">A per-call override is invalid; nothing was submitted.</exception>
    public static FluxFuture<T> Invoke<T>(FluxAppDescriptor app, FluxWriter arguments, FluxResultReader<T> readResult,
        FluxCallOptions? options, CancellationToken cancellationToken)
    {
        var resources = JobResources.Resolve(app, options);
        var future = new FluxFuture<T>(app, readResult);
        Submit(future, arguments, resources, options, cancellationToken);
        return future;
    }

    /// <summary>Submits a call whose app returns nothing (void, Task, ValueTask).</summary>
    /// <exception cref="ArgumentException">A per-call override is invalid; nothing was submitted.</exception>
    public static FluxFuture Invoke(FluxAppDescriptor app, FluxWriter arguments, FluxCallOptions? options, CancellationToken cancellationToken)
    {
        var resources = JobResources.Resolve(app, options);
        var future = new FluxVoidFuture(app);
        Submit(future, arguments, resources, options, cancellationToken);
        return future;
    }

    /// <summary>Submits a command app: the command the app method built runs as the job's tasks.</summary>
    /// <exception cref="ArgumentException">A per-call override is invalid, the command is null or its environment invalid; nothing was submitted.</exception>
    public static FluxFuture<FluxCommandResult> InvokeCommand(FluxAppDescriptor app, FluxCommand command,
        FluxCallOptions? options, CancellationToken cancellationToken)
    {
        if (command is null)
            throw new ArgumentException($"{app.DisplayName} returned a null FluxCommand: a command app must return the program to run.", nameof(command));
        var resources = JobResources.Resolve(app, options);
        JobResources.CheckEnvironment(command.Environment, app);
        var future = new FluxFuture<FluxCommandResult>(app, static _ => throw new InvalidOperationException("A command app has no result payload."));
        if (DryRunCapture.Current is { } dryRun)
        {
            dryRun.Record(future, resources, options, command);
            return future;
        }
        var runtime = options?.Runtime ?? FluxAppsRuntime.Default;
        runtime.Submit(future, null, resources, options, cancellationToken, command);
        return future;
    }

    private static void Submit(FluxFuture future, FluxWriter arguments, JobResources resources, FluxCallOptions? options, CancellationToken cancellationToken)
    {
        // Inside FluxDryRun.Describe: described, not submitted; no runtime is started.
        if (DryRunCapture.Current is { } dryRun)
        {
            dryRun.Record(future, resources, options, null);
            return;
        }
        var runtime = options?.Runtime ?? FluxAppsRuntime.Default;
        runtime.Submit(future, arguments, resources, options, cancellationToken);
    }
}
