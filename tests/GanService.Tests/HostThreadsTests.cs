using GanService.Gan.Runtime;

namespace GanService.Tests;

[Collection(PostgresCollection.Name)]
public sealed class HostThreadsTests(PostgresServer postgres)
{
    /// <summary>
    /// Outside training jobs (their own threads, Gan:TorchThreads) a host runs libtorch single-threaded, so imports,
    /// previews and generator loads on thread-pool threads leave no OpenMP team that would slow training.
    /// </summary>
    [Fact]
    public async Task A_started_host_leaves_threads_that_never_set_their_own_count_single_threaded()
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:TorchThreads"] = "2" }
        );
        using var client = service.CreateClient();
        Assert.Equal(1, TorchRuntime.DefaultThreads());
    }
}
