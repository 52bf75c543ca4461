using System;

namespace FluxApps;

/// <summary>
/// Marks a static method without parameters (returning <c>void</c> or <c>Task</c>) that runs once in every
/// worker process before its first call: load a model, set up logging or telemetry, where the program's
/// <c>Main</c> never runs. In a pool it runs once per worker, not once per call. If it throws, the worker's
/// calls fail with its exception.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class FluxWorkerStartupAttribute : Attribute
{
}
