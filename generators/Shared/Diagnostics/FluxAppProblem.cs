#nullable enable
using Microsoft.CodeAnalysis;

namespace FluxApps.Generators;

/// <summary>
/// One broken rule of a [FluxApp] method: the descriptor it is reported with, where, and the
/// message naming the offending value. It carries the descriptor itself (as CommunityToolkit's
/// DiagnosticInfo does), so reporting it cannot fail on an id that has no descriptor.
/// </summary>
internal sealed class FluxAppProblem
{
    public FluxAppProblem(DiagnosticDescriptor descriptor, Location location, string message, bool reportedElsewhere = false)
    {
        Descriptor = descriptor;
        Location = location;
        Message = message;
        ReportedElsewhere = reportedElsewhere;
    }

    public DiagnosticDescriptor Descriptor { get; }
    public Location Location { get; }
    public string Message { get; }

    /// <summary>
    /// True when the compiler already reports the cause (a type that does not exist yet, while
    /// the user is typing): the generator still skips the method, the analyzers stay silent
    /// rather than add a second error on top.
    /// </summary>
    public bool ReportedElsewhere { get; }

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Message);

    public override string ToString() => $"{Descriptor.Id}: {Message}";
}
