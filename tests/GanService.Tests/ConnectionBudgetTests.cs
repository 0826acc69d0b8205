using System.Net;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// A host bounds its PostgreSQL connections with the connection string's <c>Maximum Pool Size</c> (README, "Scaling
/// out"): when every pooled connection is in use past the pool's <c>Timeout</c>, a request is a 503 with
/// Retry-After, not a 500, and the host serves again as soon as one is free.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConnectionBudgetTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_host_whose_pool_is_used_up_answers_503_and_then_recovers()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory($"{database};Maximum Pool Size=1;Timeout=1", role: "api");
        var client = api.CreateClient();
        using var before = await client.GetAsync("/api/datasets");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        // One request holds the host's only connection, waiting on a lock the test holds; the next finds none free.
        await using var locker = new NpgsqlConnection(database);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockJobs = new NpgsqlCommand("LOCK TABLE gan.training_jobs", locker, transaction))
            await lockJobs.ExecuteNonQueryAsync();
        var holding = client.GetAsync("/api/jobs");
        await WaitForLockWaiterAsync(locker);
        using var busy = await client.GetAsync("/api/datasets");
        await transaction.RollbackAsync();
        using var held = await holding;
        using var after = await client.GetAsync("/api/datasets");

        var body = await busy.Content.ReadAsStringAsync();
        Assert.True(busy.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)busy.StatusCode}: {body}");
        Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(busy.Headers.RetryAfter);
        Assert.Contains("\"The service is busy.\"", body);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>Waits until a session waits for a lock: the host's request, holding its connection.</summary>
    private static async Task WaitForLockWaiterAsync(NpgsqlConnection connection)
    {
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            connection
        );
        for (var until = DateTime.UtcNow.AddSeconds(30); (long)(await waiting.ExecuteScalarAsync())! == 0; )
        {
            Assert.True(DateTime.UtcNow < until, "no request waited for the lock within 30 s");
            await Task.Delay(20);
        }
    }
}
