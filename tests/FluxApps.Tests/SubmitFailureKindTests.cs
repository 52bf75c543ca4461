using FluxApps.Backends.Flux;

namespace FluxApps.Tests;

/// <summary>A submit that fails because the broker is going away is a backend failure (retried), not a refusal of the job.</summary>
public sealed class SubmitFailureKindTests
{
    [Theory]
    [InlineData(38)]  // ENOSYS: job-ingest unloaded during shutdown
    [InlineData(104)] // ECONNRESET
    [InlineData(32)]  // EPIPE
    [InlineData(107)] // ENOTCONN
    [InlineData(113)] // EHOSTUNREACH
    public void ABrokerGoingAwayIsABackendFailureThatRetriesMayTryAgain(int errno)
    {
        var kind = FluxJobBackend.SubmitFailureKind(errno);
        Assert.Equal(FluxJobFailureKind.BackendFailure, kind);
        var failure = new FluxJobException("submit failed", kind, "App", null);
        Assert.True(FluxApps.Runtime.RetryPolicy.IsRetriable(failure, retryOnAppException: false), $"{kind} is not retried");
    }

    [Theory]
    [InlineData(22)] // EINVAL: a jobspec the job manager does not take
    [InlineData(1)]  // EPERM
    [InlineData(28)] // ENOSPC
    public void ARefusalOfTheJobStaysRejected(int errno) =>
        Assert.Equal(FluxJobFailureKind.Rejected, FluxJobBackend.SubmitFailureKind(errno));
}
