namespace GanService.Benchmarks;

/// <summary>
/// CPU time by thread name in this process (or a worker process), and of the PostgreSQL server's processes, from
/// /proc: taken before and after a run, the difference says which background work shared the cores with training.
/// </summary>
internal sealed class CpuLedger
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private const string Training = "training";
    private readonly Dictionary<string, double> seconds;

    private CpuLedger(Dictionary<string, double> seconds) => this.seconds = seconds;

    /// <summary>Nothing yet: <c>Take().Since(Empty)</c> is the CPU used since each thread started.</summary>
    public static CpuLedger Empty { get; } = new([]);

    public static CpuLedger Take(int? processId = null)
    {
        string root = processId is { } id ? $"/proc/{id}" : "/proc/self";
        var byName = new Dictionary<string, double>();
        foreach (var task in SafeDirectories($"{root}/task"))
            Add(byName, task);
        // A training job's thread (and its libtorch threads) ends with the job, taking its entry in /proc/self/task
        // with it: count as training whatever the process used beyond its other living threads.
        var self = new Dictionary<string, double>();
        Add(self, root, Training);
        byName[Training] = self[Training] - byName.Where(kv => kv.Key != Training).Sum(kv => kv.Value);
        foreach (var process in SafeDirectories("/proc"))
            if (Read(Path.Combine(process, "comm")).Trim() == "postgres")
                Add(byName, process, "postgres (all processes)");
        return new CpuLedger(byName);
    }

    /// <summary>CPU seconds each name used since <paramref name="before"/>, largest first.</summary>
    public IEnumerable<(string Name, double Seconds)> Since(CpuLedger before) =>
        seconds
            .Select(kv => (kv.Key, kv.Value - before.seconds.GetValueOrDefault(kv.Key)))
            .Where(x => x.Item2 > 0)
            .OrderByDescending(x => x.Item2);

    private static void Add(Dictionary<string, double> byName, string directory, string? name = null)
    {
        var stat = Read(Path.Combine(directory, "stat"));
        if (stat.Length == 0)
            return;
        // Fields after the parenthesised name: state is field 3, utime 14 and stime 15 (1-based).
        int close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        double cpu = (double.Parse(fields[11]) + double.Parse(fields[12])) / TicksPerSecond;
        name ??= stat[(stat.IndexOf('(') + 1)..close];
        byName[name] = byName.GetValueOrDefault(name) + cpu;
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path).Where(d => char.IsDigit(Path.GetFileName(d)[0]));
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>
    /// "training / render / thread pool / JIT / PostgreSQL / rest" in CPU ms per second: the training threads (and
    /// the libtorch threads they start, which inherit the name), the inference threads, .NET's thread pool (Kestrel,
    /// EF, Npgsql), the tiered JIT compiler, PostgreSQL's processes and everything else.
    /// </summary>
    public static string Split(IReadOnlyList<(string Name, double Seconds)> cpu, double seconds)
    {
        string[] prefixes = [Training, "inference-", ".NET TP", ".NET Tiered", "postgres"];
        var parts = prefixes.Select(p => cpu.Where(c => c.Name.StartsWith(p)).Sum(c => c.Seconds)).ToList();
        parts.Add(cpu.Sum(c => c.Seconds) - parts.Sum());
        return string.Join(" / ", parts.Select(p => (p * 1000 / seconds).ToString("F0")));
    }
}
