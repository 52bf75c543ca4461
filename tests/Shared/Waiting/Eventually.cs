namespace FluxApps.Tests.Shared;

/// <summary>Waits for a condition that becomes true on its own (a state reached, a process gone), failing the test after a deadline.</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 20 ms; throws <see cref="TimeoutException"/> with <paramref name="why"/> after <paramref name="within"/> (default 60 s).</summary>
    public static Task True(Func<bool> condition, TimeSpan? within = null, Func<string>? why = null) =>
        True(() => Task.FromResult(condition()), within, why);

    /// <inheritdoc cref="True(Func{bool}, TimeSpan?, Func{string}?)"/>
    public static async Task True(Func<Task<bool>> condition, TimeSpan? within = null, Func<string>? why = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(60);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
                throw new TimeoutException($"the condition did not hold within {limit.TotalSeconds:F0} s" + (why is null ? "" : ": " + why()));
            await Task.Delay(20);
        }
    }
}
