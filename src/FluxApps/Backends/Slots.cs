namespace FluxApps.Backends;

/// <summary>First-fit handing out of numbered slots (cores, GPUs) tracked as a busy flag each.</summary>
internal static class Slots
{
    /// <summary>Marks the first <paramref name="count"/> free slots busy and returns their numbers (the caller checked there are enough).</summary>
    public static int[] TakeFirstFree(bool[] busy, int count)
    {
        var taken = new int[count];
        int n = 0;
        for (int i = 0; i < busy.Length && n < count; i++)
        {
            if (busy[i]) continue;
            busy[i] = true;
            taken[n++] = i;
        }
        return taken;
    }
}
