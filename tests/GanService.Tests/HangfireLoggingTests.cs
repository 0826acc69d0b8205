using Hangfire;

namespace GanService.Tests;

/// <summary>
/// Hangfire keeps one log provider for the process. A host disposed before another finishes its work (tests run
/// many hosts in one process) must not leave that provider broken: a job class enqueued for the first time then
/// builds its filter attributes, which ask for a logger, and that request failed with a 500.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HangfireLoggingTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_host_disposed_before_another_leaves_hangfire_able_to_build_its_filters()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var living = new GanServiceFactory(database, role: "api");
        using var client = living.CreateClient();
        await using (var passing = new GanServiceFactory(database, role: "api"))
            passing.CreateClient().Dispose(); // the last host to configure Hangfire, then gone

        var attribute = new AutomaticRetryAttribute { Attempts = 0 };
        Assert.Equal(0, attribute.Attempts);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }
}
