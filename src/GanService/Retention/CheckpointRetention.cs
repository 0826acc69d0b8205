using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace GanService.Retention;

/// <param name="Keep">Newest checkpoints kept, at least 1; the best and the pinned ones are kept besides.</param>
public sealed record CheckpointsRequest(int? Keep);

/// <summary>A job's retention as its recipe stores it: the newest <c>Keep</c>, the best and every pinned one.</summary>
public sealed record RetentionPlan(int Keep);

/// <summary>Checks <c>checkpoints</c> in a job request, and removes the checkpoints a job no longer keeps.</summary>
public static class CheckpointRetention
{
    public const string KeepField = "checkpoints.keep";

    /// <summary>
    /// The retention a job request asks for, else the host's default (null keeps everything); errors go under
    /// <see cref="KeepField"/>.
    /// </summary>
    public static RetentionPlan? Plan(
        CheckpointsRequest? request,
        RetentionOptions options,
        int maxCheckpoints,
        Action<string, string> fail
    )
    {
        int? keep = request?.Keep ?? (options.Keep > 0 ? options.Keep : null);
        if (keep is null)
            return null;
        if (keep < 1 || keep > maxCheckpoints)
        {
            fail(KeepField, $"Must be between 1 and {maxCheckpoints} (Gan:MaxCheckpointsPerJob).");
            return null;
        }
        return new RetentionPlan(keep.Value);
    }

    /// <summary>
    /// Deletes the job's checkpoints past its newest <c>keep</c>, less <paramref name="incoming"/> that the caller is
    /// about to add, sparing the best and the pinned ones, and any that a queued or running job's <c>initFrom</c>
    /// names while that job has no checkpoint of its own (it loads the source on every attempt until then); returns
    /// how many went. Reads <c>keep</c> from the stored recipe, so a job without retention loses nothing. The pinned
    /// test is on the deleted row itself: PostgreSQL re-checks it against a pin that commits while the delete waits.
    /// </summary>
    public static Task<int> PruneAsync(GanDbContext db, Guid jobId, int incoming, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(
            PruneSql,
            [new NpgsqlParameter<Guid>("job", jobId), new NpgsqlParameter<int>("incoming", incoming)],
            ct
        );

    private const string PruneSql = """
        DELETE FROM gan.checkpoints c
        USING (
            SELECT ranked."Id" FROM gan.training_jobs j, (
                SELECT "Id", "Step", row_number() OVER (ORDER BY "Step" DESC) AS rank
                FROM gan.checkpoints WHERE "JobId" = @job
            ) ranked
            WHERE j."Id" = @job
                AND ranked.rank > (j."Recipe" -> 'checkpoints' ->> 'keep')::int - @incoming
                AND ranked."Step" IS DISTINCT FROM j."BestStep"
                AND NOT EXISTS (
                    SELECT 1 FROM gan.training_jobs waiting
                    WHERE waiting."Status" IN ('Queued', 'Running')
                        AND waiting."Recipe" -> 'initFrom' ->> 'job' = @job::text
                        AND (waiting."Recipe" -> 'initFrom' ->> 'step')::bigint = ranked."Step"
                        AND NOT EXISTS (SELECT 1 FROM gan.checkpoints own WHERE own."JobId" = waiting."Id")
                )
        ) doomed
        WHERE c."Id" = doomed."Id" AND NOT c."Pinned"
        """;
}
