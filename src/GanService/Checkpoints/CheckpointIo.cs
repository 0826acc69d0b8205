using System.Data;
using GanService.Persistence;
using Npgsql;

namespace GanService.Checkpoints;

/// <summary>
/// Reading and writing checkpoints by size. The command timeout grows with the bundle: Npgsql's fixed 30 s default
/// cut off a large bundle on a slow link, and a timeout reads as a database outage, so the attempt waited out an
/// outage that was not one (docs/reliability.md, "Budgets"). A bundle is copied out as a stream, never held whole.
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

    /// <summary>
    /// Copies the stored bundle of (<paramref name="jobId"/>, <paramref name="step"/>) to <paramref name="target"/>
    /// as PostgreSQL sends it (sequential access), so that its bytes pass through one buffer.
    /// </summary>
    public static async Task CopyBundleAsync(
        GanDbContext db,
        Guid jobId,
        long step,
        long bytes,
        Stream target,
        CancellationToken ct
    )
    {
        await db.WithConnectionAsync(
            async connection =>
            {
                await using var command = new NpgsqlCommand(
                    $"""
                    SELECT "Bundle" FROM {GanDbContext.Schema}.checkpoints WHERE "JobId" = @job AND "Step" = @step
                    """,
                    connection
                );
                command.CommandTimeout = (int)CommandTimeout(bytes).TotalSeconds;
                command.Parameters.AddWithValue("job", jobId);
                command.Parameters.AddWithValue("step", step);
                await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
                // Gone since its size was read: the response has begun, so it can only end short.
                if (!await reader.ReadAsync(ct))
                    throw new IOException(
                        $"The checkpoint of job {jobId} at step {step} was removed while being sent."
                    );
                await using var bundle = await reader.GetStreamAsync(0, ct);
                await bundle.CopyToAsync(target, 81920, ct);
                return true;
            },
            ct
        );
    }
}
