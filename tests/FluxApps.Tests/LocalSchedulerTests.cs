using FluxApps.Backends;

namespace FluxApps.Tests;

/// <summary>The local backend's scheduler alone: cores, GPUs, queue order, first fit, hold (no processes).</summary>
public sealed class LocalSchedulerTests
{
    private sealed class Job(string name)
    {
        public override string ToString() => name;
    }

    private static List<Job> Started(LocalScheduler<Job> s) => s.StartWhatFits().Select(a => a.Job).ToList();

    [Fact]
    public void JobsStartInOrderWhileTheyFitAndHoldTheirCores()
    {
        var s = new LocalScheduler<Job>(cores: 4, gpus: 0);
        Job a = new("a"), b = new("b"), c = new("c");
        s.Enqueue(a, 2, 0, 16);
        s.Enqueue(b, 2, 0, 16);
        s.Enqueue(c, 1, 0, 16);
        var allocations = s.StartWhatFits();
        Assert.Equal([a, b], allocations.Select(x => x.Job));
        Assert.Equal(0, s.FreeCores);
        Assert.Empty(allocations[0].CoreSlots.Intersect(allocations[1].CoreSlots));
        Assert.True(s.IsQueued(c));
        s.Release(allocations[0]);
        Assert.Equal(2, s.FreeCores);
        Assert.Equal([c], Started(s));
        Assert.Equal(0, s.QueuedCount);
    }

    [Fact]
    public void HigherUrgencyGoesFirstThenSubmissionOrder()
    {
        var s = new LocalScheduler<Job>(cores: 1, gpus: 0);
        Job early = new("early"), late = new("late"), urgent = new("urgent");
        s.Enqueue(early, 1, 0, 16);
        s.Enqueue(late, 1, 0, 16);
        s.Enqueue(urgent, 1, 0, 20);
        var order = new List<Job>();
        for (int i = 0; i < 3; i++)
        {
            var started = s.StartWhatFits();
            order.AddRange(started.Select(x => x.Job));
            s.Release(Assert.Single(started));
        }
        Assert.Equal([urgent, early, late], order);
    }

    [Fact]
    public void FirstFitStartsASmallJobPastOneThatDoesNotFitYet()
    {
        var s = new LocalScheduler<Job>(cores: 2, gpus: 1);
        Job running = new("running"), big = new("big"), small = new("small"), needsGpu = new("gpu");
        s.Enqueue(running, 1, 1, 16);
        Assert.Equal([running], Started(s));
        s.Enqueue(big, 2, 0, 16);
        s.Enqueue(needsGpu, 1, 1, 16);
        s.Enqueue(small, 1, 0, 16);
        Assert.Equal([small], Started(s)); // big needs both cores; the GPU is taken
        Assert.True(s.IsQueued(big));
        Assert.True(s.IsQueued(needsGpu));
    }

    [Fact]
    public void UrgencyZeroIsHeldNeverRunLastAndReleasedWhenRaised()
    {
        var s = new LocalScheduler<Job>(cores: 2, gpus: 0);
        Job held = new("held");
        s.Enqueue(held, 1, 0, LocalScheduler<Job>.HoldUrgency);
        Assert.Empty(Started(s)); // the machine is idle, and still it waits
        Assert.True(s.IsQueued(held));
        Assert.True(s.SetUrgency(held, 16));
        Assert.Equal([held], Started(s));
    }

    [Fact]
    public void SettingUrgencyZeroHoldsAQueuedJob()
    {
        var s = new LocalScheduler<Job>(cores: 1, gpus: 0);
        Job a = new("a"), b = new("b");
        s.Enqueue(a, 1, 0, 16);
        s.Enqueue(b, 1, 0, 16);
        Assert.True(s.SetUrgency(a, 0));
        var first = s.StartWhatFits();
        Assert.Equal([b], first.Select(x => x.Job));
        s.Release(first[0]);
        Assert.Empty(Started(s));
    }

    [Fact]
    public void RaisingAQueuedJobReordersIt()
    {
        var s = new LocalScheduler<Job>(cores: 1, gpus: 0);
        Job first = new("first"), second = new("second");
        s.Enqueue(first, 1, 0, 16);
        s.Enqueue(second, 1, 0, 16);
        Assert.True(s.SetUrgency(second, 17));
        Assert.Equal([second], Started(s));
    }

    [Fact]
    public void RemovedAndStartedJobsAreNotQueued()
    {
        var s = new LocalScheduler<Job>(cores: 1, gpus: 0);
        Job a = new("a"), b = new("b");
        s.Enqueue(a, 1, 0, 16);
        s.Enqueue(b, 1, 0, 16);
        Assert.True(s.Remove(b));
        Assert.False(s.Remove(b));
        var started = s.StartWhatFits();
        Assert.False(s.SetUrgency(a, 20)); // started: past the queue
        Assert.False(s.Remove(a));
        s.Release(Assert.Single(started));
        Assert.Empty(Started(s)); // b is gone for good
        Assert.Equal(1, s.FreeCores);
    }

    [Fact]
    public void ReleasingTwiceIsAnError()
    {
        var s = new LocalScheduler<Job>(cores: 1, gpus: 0);
        s.Enqueue(new Job("a"), 1, 0, 16);
        var allocation = Assert.Single(s.StartWhatFits());
        s.Release(allocation);
        Assert.Throws<InvalidOperationException>(() => s.Release(allocation));
        Assert.Equal(1, s.FreeCores);
    }

    [Fact]
    public void BadRequestsNameTheValue()
    {
        var s = new LocalScheduler<Job>(cores: 2, gpus: 1);
        Assert.Contains("cores = 3", Assert.Throws<ArgumentOutOfRangeException>(() => s.Enqueue(new Job("x"), 3, 0, 16)).Message);
        Assert.Contains("gpus = 2", Assert.Throws<ArgumentOutOfRangeException>(() => s.Enqueue(new Job("x"), 1, 2, 16)).Message);
        Assert.Contains("Urgency = 32", Assert.Throws<ArgumentOutOfRangeException>(() => s.Enqueue(new Job("x"), 1, 0, 32)).Message);
        Assert.Contains("Urgency = -1", Assert.Throws<ArgumentOutOfRangeException>(() => s.SetUrgency(new Job("x"), -1)).Message);
        var job = new Job("twice");
        s.Enqueue(job, 1, 0, 16);
        Assert.Throws<InvalidOperationException>(() => s.Enqueue(job, 1, 0, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LocalScheduler<Job>(0, 0));
    }
}
