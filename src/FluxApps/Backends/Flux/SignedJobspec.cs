using System;
using System.Globalization;
using System.Text;

namespace FluxApps.Backends.Flux;

/// <summary>
/// Flux's signed-jobspec envelope (J) for the "none" mechanism, as libflux-core's
/// <c>sign_none_wrap</c> writes it: <c>base64(header) "." base64(jobspec) ".none"</c>, the header being
/// NUL-separated pairs <c>version i1 userid i&lt;uid&gt; mechanism snone</c>. Job-ingest accepts it from
/// the instance owner only, which is the only case the backend uses it for.
/// </summary>
internal static class SignedJobspec
{
    /// <summary>The jobspec wrapped, unsigned, for submission by user <paramref name="userId"/>.</summary>
    public static string WrapUnsigned(string jobspec, uint userId)
    {
        string header = string.Create(CultureInfo.InvariantCulture, $"version\0i1\0userid\0i{userId}\0mechanism\0snone\0");
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(header)) + "."
            + Convert.ToBase64String(Encoding.UTF8.GetBytes(jobspec)) + ".none";
    }
}
