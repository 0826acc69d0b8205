using GanService.Persistence;
using Npgsql;

namespace GanService.Tests;

public class PersistenceSettingsTests
{
    [Fact]
    public void Hot_statements_are_prepared_unless_the_connection_string_decides_itself()
    {
        var tuned = new NpgsqlConnectionStringBuilder(
            PersistenceExtensions.WithPreparedStatements("Host=db;Database=ganservice")
        );
        Assert.Equal((64, 2, "db"), (tuned.MaxAutoPrepare, tuned.AutoPrepareMinUsages, tuned.Host));
        foreach (var own in new[] { "Host=db;Max Auto Prepare=0", "Host=db;MaxAutoPrepare=0" })
            Assert.Equal(
                0,
                new NpgsqlConnectionStringBuilder(PersistenceExtensions.WithPreparedStatements(own)).MaxAutoPrepare
            );
    }
}
