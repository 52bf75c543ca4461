namespace FluxApps.Generators;

/// <summary>How an app method returns.</summary>
internal enum ReturnKind
{
    Void,
    Task,
    ValueTask,
    Value,
    TaskOfT,
    ValueTaskOfT,
    /// <summary>Returns a FluxCommand: a command app.</summary>
    Command,
}
