using FluxApps.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace FluxApps.Tests;

public class DeadlineTimerTests
{
    [Fact]
    public void A_limit_longer_than_one_timer_can_wait_fires_at_its_deadline_not_before()
    {
        var time = new FakeTimeProvider();
        int fired = 0;
        using var timer = DeadlineTimer.Start(TimeSpan.FromDays(30).TotalSeconds, _ => Interlocked.Increment(ref fired), null, time);

        time.Advance(TimeSpan.FromDays(25)); // past the 24.8 days one timer can wait
        Assert.Equal(0, fired);
        time.Advance(TimeSpan.FromDays(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fired);
        time.Advance(TimeSpan.FromDays(60));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void A_limit_of_many_chunks_fires_once_at_its_deadline()
    {
        var time = new FakeTimeProvider();
        int fired = 0;
        using var timer = DeadlineTimer.Start(TimeSpan.FromDays(100).TotalSeconds, _ => Interlocked.Increment(ref fired), null, time);
        for (int day = 1; day < 100; day++)
        {
            time.Advance(TimeSpan.FromDays(1));
            Assert.Equal(0, fired);
        }
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void A_short_limit_fires_at_its_deadline_with_its_state()
    {
        var time = new FakeTimeProvider();
        object? seen = null;
        var state = new object();
        using var timer = DeadlineTimer.Start(90, s => seen = s, state, time);
        time.Advance(TimeSpan.FromSeconds(89));
        Assert.Null(seen);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Same(state, seen);
    }

    [Fact]
    public void A_disposed_timer_never_fires()
    {
        var time = new FakeTimeProvider();
        int fired = 0;
        var timer = DeadlineTimer.Start(TimeSpan.FromDays(30).TotalSeconds, _ => fired++, null, time);
        time.Advance(TimeSpan.FromDays(26));
        timer!.Dispose();
        time.Advance(TimeSpan.FromDays(10));
        Assert.Equal(0, fired);
    }

    [Fact]
    public void A_limit_beyond_what_a_time_span_holds_gets_no_timer()
    {
        Assert.Null(DeadlineTimer.Start(1e300, _ => { }, null, new FakeTimeProvider()));
    }
}
