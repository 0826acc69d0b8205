namespace GanService.Checkpoints;

/// <summary>
/// The command timeout of a checkpoint's write or read, from its size. Npgsql's fixed 30 s default cut off a large
/// bundle on a slow link, and a timeout reads as a database outage, so the attempt waited out an outage that was
/// not one (docs/reliability.md, "Budgets").
/// </summary>
public static class CheckpointIo
{
    /// <summary>
    /// A throughput any working link to PostgreSQL beats by far, so a timeout means it is really stuck.
    /// </summary>
    public const long ConservativeBytesPerSecond = 4L << 20;

    public static readonly TimeSpan Floor = TimeSpan.FromSeconds(30);

    public static TimeSpan CommandTimeout(long bytes) =>
        TimeSpan.FromSeconds(Math.Max(Floor.TotalSeconds, Math.Ceiling((double)bytes / ConservativeBytesPerSecond)));
}
