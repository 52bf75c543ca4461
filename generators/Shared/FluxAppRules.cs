// Pure validation rules for [FluxApp] resource requests. This one file is compiled into the
// generator, the analyzers and the runtime, so compile-time and run-time checks cannot disagree.
#nullable enable
using System;
using System.Globalization;

namespace FluxApps.Internal;

/// <summary>Validation rules shared by the generator, the analyzers and the runtime.</summary>
internal static class FluxAppRules
{
    /// <summary>Highest urgency Flux accepts (RFC 21: 0 holds a job, 16 is the default, 31 is expedite).</summary>
    public const int MaxUrgency = 31;

    /// <summary>Urgency a job gets when none is asked for.</summary>
    public const int DefaultUrgency = 16;

    /// <summary>FLUX003: cores per rank must be at least 1.</summary>
    public static string? CheckCpus(int cpus) =>
        cpus < 1 ? $"Cpus = {cpus} is out of range: every rank needs at least 1 core" : null;

    /// <summary>FLUX003: GPUs per rank cannot be negative.</summary>
    public static string? CheckGpus(int gpus) =>
        gpus < 0 ? $"Gpus = {gpus} is out of range: GPUs per rank must be 0 or more" : null;

    /// <summary>FLUX003: an app runs at least one rank.</summary>
    public static string? CheckMpiRanks(int ranks) =>
        ranks < 1 ? $"MpiRanks = {ranks} is out of range: an app runs at least 1 rank" : null;

    /// <summary>FLUX003: node count cannot be negative (0 lets the scheduler choose).</summary>
    public static string? CheckNodes(int nodes) =>
        nodes < 0 ? $"Nodes = {nodes} is out of range: use 0 to let the scheduler choose, or a positive node count" : null;

    /// <summary>FLUX003: urgency is 0 to 31.</summary>
    public static string? CheckUrgency(int urgency) =>
        urgency < 0 || urgency > MaxUrgency
            ? $"Urgency = {urgency} is out of range: Flux accepts 0 (hold) to {MaxUrgency} (expedite), default {DefaultUrgency}"
            : null;

        /// <summary>FLUX023: a pooled call is one task in a worker process, so neither MPI ranks nor a command can run in a pool.</summary>
        public static string? CheckPool(string? pool, int mpiRanks, bool isCommand) =>
            string.IsNullOrEmpty(pool) ? null
            : isCommand ? $"Pool = \"{pool}\" cannot run a command app (it returns FluxCommand): a command runs as a job of its own"
            : mpiRanks > 1 ? $"Pool = \"{pool}\" cannot run MpiRanks = {mpiRanks}: a pooled call is one task inside a worker; MPI apps run as jobs of their own"
            : null;

    /// <summary>FLUX003: a call is resubmitted at most Retries times; 0 runs it once.</summary>
    public static string? CheckRetries(int retries) =>
        retries < 0 ? $"Retries = {retries} is out of range: use 0 (run once) or a positive number of resubmissions" : null;

    /// <summary>FLUX004: every node needs at least one rank.</summary>
    public static string? CheckNodesVersusRanks(int nodes, int ranks) =>
        nodes > ranks && ranks >= 1
            ? $"Nodes = {nodes} exceeds MpiRanks = {ranks}: every node needs at least one rank"
            : null;

    /// <summary>FLUX010: whole-node allocation needs a node count.</summary>
    public static string? CheckExclusive(bool exclusive, int nodes) =>
        exclusive && nodes <= 0
            ? "Exclusive = true needs Nodes: whole nodes can only be allocated when the node count is set"
            : null;

    /// <summary>FLUX022: a job name, when given, must contain text (the runtime rejects an empty one at every call).</summary>
    public static string? CheckName(string? name) =>
        name is not null && name.Trim().Length == 0
            ? $"Name = \"{name}\" is empty: a job needs a name; remove it to use the method's name"
            : null;

    /// <summary>FLUX022: a queue, when given, must contain text (null selects the default queue).</summary>
    public static string? CheckQueue(string? queue) =>
        queue is not null && queue.Trim().Length == 0
            ? $"Queue = \"{queue}\" is empty: remove it (or use null) to submit to the default queue"
            : null;

    /// <summary>FLUX008: the time limit must be a Flux Standard Duration (RFC 23).</summary>
    public static string? CheckTimeLimit(string? timeLimit)
    {
        if (timeLimit is null) return null;
        if (TryParseDuration(timeLimit, out _)) return null;
        return $"TimeLimit = \"{timeLimit}\" is not a Flux Standard Duration: use a number with an optional unit ms, s, m, h or d, such as \"90s\", \"10m\" or \"2h\"";
    }

    /// <summary>
    /// FLUX011: does the request fit a machine of <paramref name="clusterNodes"/> nodes with
    /// <paramref name="coresPerNode"/> cores and <paramref name="gpusPerNode"/> GPUs each?
    /// A node or core count of 0 or less, or a GPU count below 0, is unknown and not checked.
    /// Returns the first violation or null.
    /// </summary>
    public static string? CheckClusterFit(int cpus, int gpus, int ranks, int nodes, int clusterNodes, int coresPerNode, int gpusPerNode) =>
        CheckClusterFit(cpus, gpus, ranks, nodes, clusterNodes, coresPerNode, gpusPerNode, out _);

    /// <summary>
    /// <see cref="CheckClusterFit(int, int, int, int, int, int, int)"/>, also naming the request
    /// properties the violation is about, the most to blame first (where a diagnostic belongs).
    /// </summary>
    public static string? CheckClusterFit(int cpus, int gpus, int ranks, int nodes, int clusterNodes, int coresPerNode, int gpusPerNode, out string[] blamed)
    {
        blamed = Array.Empty<string>();
        if (cpus < 1 || gpus < 0 || ranks < 1 || nodes < 0) return null; // FLUX003 reports these
        if (clusterNodes > 0 && nodes > clusterNodes)
        {
            blamed = new[] { "Nodes" };
            return $"Nodes = {nodes} exceeds the cluster's {clusterNodes} nodes";
        }
        if (coresPerNode > 0 && cpus > coresPerNode)
        {
            blamed = new[] { "Cpus" };
            return $"Cpus = {cpus} exceeds the cluster's {coresPerNode} cores per node: one rank cannot span nodes";
        }
        if (gpusPerNode >= 0 && gpus > gpusPerNode)
        {
            blamed = new[] { "Gpus" };
            return gpusPerNode == 0
                ? $"Gpus = {gpus} asks for GPUs, but the cluster's nodes have none"
                : $"Gpus = {gpus} exceeds the cluster's {gpusPerNode} GPUs per node: one rank cannot span nodes";
        }
        if (nodes > 0)
        {
            int ranksPerNode = (ranks + nodes - 1) / nodes;
            if (coresPerNode > 0 && (long)ranksPerNode * cpus > coresPerNode)
            {
                blamed = new[] { "MpiRanks", "Nodes", "Cpus" };
                return $"MpiRanks = {ranks} on Nodes = {nodes} puts {ranksPerNode} ranks of Cpus = {cpus} on a node: {(long)ranksPerNode * cpus} cores, more than the cluster's {coresPerNode} cores per node";
            }
            if (gpus > 0 && gpusPerNode >= 0 && (long)ranksPerNode * gpus > gpusPerNode)
            {
                blamed = new[] { "MpiRanks", "Nodes", "Gpus" };
                return $"MpiRanks = {ranks} on Nodes = {nodes} puts {ranksPerNode} ranks of Gpus = {gpus} on a node: {(long)ranksPerNode * gpus} GPUs, more than the cluster's {gpusPerNode} GPUs per node";
            }
        }
        else if (clusterNodes > 0)
        {
            long perNode = long.MaxValue;
            if (coresPerNode > 0) perNode = Math.Min(perNode, coresPerNode / cpus);
            if (gpus > 0 && gpusPerNode >= 0) perNode = Math.Min(perNode, gpusPerNode / gpus);
            if (perNode != long.MaxValue && perNode * clusterNodes < ranks)
            {
                blamed = new[] { "MpiRanks", "Cpus", "Gpus" };
                return $"MpiRanks = {ranks} with Cpus = {cpus} and Gpus = {gpus} per rank needs more than the cluster's {clusterNodes} nodes: at most {perNode * clusterNodes} such ranks fit";
            }
        }
        return null;
    }

    /// <summary>
    /// The fewest nodes (at least 1, at most <paramref name="ranks"/>) on which the request fits the
    /// declared cluster, or 1 when nothing fits or nothing is known: the value a fix for FLUX010 offers.
    /// </summary>
    public static int SmallestFittingNodeCount(int cpus, int gpus, int ranks, int clusterNodes, int coresPerNode, int gpusPerNode)
    {
        if (cpus < 1 || gpus < 0 || ranks < 1) return 1;
        long ranksPerNode = long.MaxValue;
        if (coresPerNode > 0) ranksPerNode = Math.Min(ranksPerNode, coresPerNode / cpus);
        if (gpus > 0 && gpusPerNode >= 0) ranksPerNode = Math.Min(ranksPerNode, gpusPerNode / gpus);
        if (ranksPerNode == long.MaxValue || ranksPerNode == 0) return 1; // nothing known, or one rank never fits
        long nodes = (ranks + ranksPerNode - 1) / ranksPerNode;
        if (clusterNodes > 0 && nodes > clusterNodes) return 1;
        return (int)Math.Max(1, nodes);
    }

    /// <summary>
    /// Parses a Flux Standard Duration (RFC 23): a non-negative floating point number with an
    /// optional unit ms, s, m, h or d, or "inf"/"infinity" without unit.
    /// </summary>
    public static bool TryParseDuration(string? text, out double seconds)
    {
        seconds = 0;
        if (text is null) return false;
        string s = text.Trim();
        if (s.Length == 0) return false;
        string lower = s.ToLowerInvariant();
        if (lower == "inf" || lower == "infinity")
        {
            seconds = double.PositiveInfinity;
            return true;
        }
        double multiplier = 1;
        string number = s;
        if (s.EndsWith("ms", StringComparison.Ordinal)) { multiplier = 1e-3; number = s.Substring(0, s.Length - 2); }
        else if (s.EndsWith("s", StringComparison.Ordinal)) { number = s.Substring(0, s.Length - 1); }
        else if (s.EndsWith("m", StringComparison.Ordinal)) { multiplier = 60; number = s.Substring(0, s.Length - 1); }
        else if (s.EndsWith("h", StringComparison.Ordinal)) { multiplier = 3600; number = s.Substring(0, s.Length - 1); }
        else if (s.EndsWith("d", StringComparison.Ordinal)) { multiplier = 86400; number = s.Substring(0, s.Length - 1); }
        if (number.Length == 0 || !(char.IsDigit(number[0]) || number[0] == '.' || number[0] == '+')) return false;
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent | NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture, out double value))
            return false;
        if (double.IsNaN(value) || double.IsInfinity(value) || value < 0) return false;
        seconds = value * multiplier;
        return true;
    }
}
