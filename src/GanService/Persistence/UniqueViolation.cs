using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace GanService.Persistence;

/// <summary>Tells an insert that lost to a concurrent one with the same unique key apart from other failures.</summary>
public static class UniqueViolation
{
    /// <summary>True when PostgreSQL refused the save because a row with the same unique key exists.</summary>
    public static bool Is(DbUpdateException e) =>
        e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
