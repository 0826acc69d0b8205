using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace GanService.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the host or a database.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<GanDbContext>
{
    public GanDbContext CreateDbContext(string[] args) =>
        new(
            new DbContextOptionsBuilder<GanDbContext>()
                .UseNpgsql("Host=localhost;Database=ganservice", npgsql =>
                    npgsql.MigrationsHistoryTable("__ef_migrations_history", GanDbContext.Schema)
                )
                .Options
        );
}
