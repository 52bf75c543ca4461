using System;
using System.Threading;

namespace FluxApps.Runtime;

/// <summary>
/// A one-shot timer for a deadline any distance away. A single timer takes at most about 49.7 days, and a time limit
/// capped to what it takes would fire early; so a long wait is made of chunks, the timer re-armed after each until the
/// deadline has passed, and the callback runs once, at the deadline.
/// </summary>
internal sealed class DeadlineTimer : IDisposable
{
    /// <summary>The longest single wait (int.MaxValue ms, 24.8 days): well inside what every timer accepts.</summary>
    internal static readonly TimeSpan MaxChunk = TimeSpan.FromMilliseconds(int.MaxValue);

    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly TimeSpan _delay;
    private readonly Action<object?> _callback;
    private readonly object? _state;
    private readonly object _gate = new();
    private readonly ITimer _timer;
    private bool _done;

    private DeadlineTimer(TimeSpan delay, Action<object?> callback, object? state, TimeProvider time)
    {
        _time = time;
        _start = time.GetTimestamp();
        _delay = delay;
        _callback = callback;
        _state = state;
        // Armed only once assigned: a chunk that is due at once must find the timer to re-arm.
        _timer = time.CreateTimer(static s => ((DeadlineTimer)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_gate) Arm(delay);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> with <paramref name="state"/> once, <paramref name="seconds"/> from now; null (no
    /// timer) for a deadline too far away to ever come (beyond what a TimeSpan holds, some 29,000 years).
    /// </summary>
    public static DeadlineTimer? Start(double seconds, Action<object?> callback, object? state, TimeProvider? time = null)
    {
        if (double.IsNaN(seconds) || seconds >= TimeSpan.MaxValue.TotalSeconds) return null;
        return new DeadlineTimer(TimeSpan.FromSeconds(Math.Max(seconds, 0)), callback, state, time ?? TimeProvider.System);
    }

    private void Arm(TimeSpan remaining) => _timer.Change(remaining < MaxChunk ? remaining : MaxChunk, Timeout.InfiniteTimeSpan);

    private void Tick()
    {
        lock (_gate)
        {
            if (_done) return;
            TimeSpan remaining = _delay - _time.GetElapsedTime(_start);
            if (remaining > TimeSpan.Zero)
            {
                Arm(remaining); // one chunk of a long wait is over: wait for the next
                return;
            }
            _done = true;
        }
        _callback(_state);
    }

    /// <summary>Stops the timer: the callback does not run if it has not yet.</summary>
    public void Dispose()
    {
        lock (_gate) _done = true;
        _timer.Dispose();
    }
}
