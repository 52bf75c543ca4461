using System;

namespace FluxApps.Serialization;

/// <summary>
/// A payload (a call's arguments, its result or an error report) is malformed, truncated, from
/// another program or hostile. <see cref="FluxReader"/> and the generated readers throw nothing else
/// on bad input. The caller sees it as the inner exception of a <see cref="FluxJobException"/> of
/// kind <see cref="FluxJobFailureKind.BadResult"/>; a worker that cannot read its arguments refuses
/// the call and reports this exception's message.
/// </summary>
public sealed class FluxPayloadException : FormatException
{
    /// <summary>Creates the exception for a problem found at <paramref name="offset"/> (-1 if unknown).</summary>
    public FluxPayloadException(string message, int offset = -1, Exception? inner = null)
        : base(offset < 0 ? message : $"{message} (at payload offset {offset})", inner)
    {
        Offset = offset;
    }

    /// <summary>Byte offset in the payload where the problem was found, or -1 when it concerns the payload as a whole.</summary>
    public int Offset { get; }
}
