using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace GanService.Persistence;

/// <summary>
/// SQL that EF cannot express well (ranges of a bytea, sequential reads of a large value), run on a context's own
/// connection so that it shares the context's settings and pool.
/// </summary>
public static class RawCommands
{
    /// <summary>
    /// Runs <paramref name="work"/> on the context's connection, opened for it and closed after unless it was open.
    /// </summary>
    public static async Task<T> WithConnectionAsync<T>(
        this GanDbContext db,
        Func<NpgsqlConnection, Task<T>> work,
        CancellationToken ct
    )
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        bool opened = connection.State != ConnectionState.Open;
        if (opened)
            await connection.OpenAsync(ct);
        try
        {
            return await work(connection);
        }
        finally
        {
            if (opened)
                await connection.CloseAsync();
        }
    }
}
