namespace GanService.Tests;

/// <summary>
/// Each test gets a fresh database and an API-only host on it, so that nothing one test stores shows in another's
/// lists; with no worker, submitted jobs stay Queued.
/// </summary>
public abstract class ApiOnlyHost(PostgresServer postgres, IDictionary<string, string?>? settings = null)
    : IAsyncLifetime
{
    protected PostgresServer Postgres => postgres;
    protected GanServiceFactory Service { get; private set; } = null!;
    protected HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api", settings: settings);
        Client = Service.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Service.DisposeAsync();
    }
}
