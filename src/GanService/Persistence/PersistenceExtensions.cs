using GanService.Checkpoints;
using GanService.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace GanService.Persistence;

public static class PersistenceExtensions
{
    public static string PostgresConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");

    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var connectionString = WithPreparedStatements(builder.Configuration.PostgresConnectionString());
        builder.Services.AddDbContextFactory<GanDbContext>(options =>
            options.UseNpgsql(connectionString, npgsql =>
                npgsql.MigrationsHistoryTable("__ef_migrations_history", GanDbContext.Schema)
            )
        );
        builder.Services.AddSingleton<ICheckpointStore, PostgresCheckpointStore>();
        return builder;
    }

    /// <summary>
    /// Npgsql prepares a statement on the server after it has run twice (unless the connection string says otherwise):
    /// PostgreSQL then skips parsing and planning the hot queries, such as the lookup every sampling request makes.
    /// </summary>
    internal static string WithPreparedStatements(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // The keys as written (Npgsql's builder reports every keyword it knows, set or not), spaces being optional.
        var written = new System.Data.Common.DbConnectionStringBuilder
        {
            ConnectionString = connectionString,
        }.Keys.Cast<string>();
        if (!written.Any(key => key.Replace(" ", "").Contains("autoprepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// Waits for PostgreSQL (up to <c>Gan:OutageTolerance</c>) and applies EF migrations (schema <c>gan</c>) unless
    /// <c>Gan:MigrateOnStartup</c> is off. A host started before its database, or during an outage, comes up when the
    /// database does, instead of exiting: worker hosts on other machines do not start in step with PostgreSQL.
    /// </summary>
    public static async Task WaitForDatabaseAsync(this WebApplication app)
    {
        var gan = app.Services.GetRequiredService<IOptions<GanOptions>>().Value;
        var contexts = app.Services.GetRequiredService<IDbContextFactory<GanDbContext>>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GanService.Startup");
        await DatabaseOutage.RetryAsync(
            async () =>
            {
                await using var db = await contexts.CreateDbContextAsync(app.Lifetime.ApplicationStopping);
                if (gan.MigrateOnStartup)
                    await db.Database.MigrateAsync(app.Lifetime.ApplicationStopping);
                else
                    await db.Database.ExecuteSqlRawAsync("SELECT 1", app.Lifetime.ApplicationStopping);
            },
            gan.OutageTolerance,
            logger,
            gan.MigrateOnStartup ? "migrating the database at startup" : "connecting at startup",
            app.Lifetime.ApplicationStopping
        );
    }
}
