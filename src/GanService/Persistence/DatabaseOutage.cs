using System.Net.Sockets;
using Npgsql;

namespace GanService.Persistence;

/// <summary>Tells a database that is down or restarting apart from a bug, and waits one out with bounds.</summary>
public static class DatabaseOutage
{
    /// <summary>
    /// True when the exception (or one inside it) says PostgreSQL could not be reached or is restarting.
    /// </summary>
    public static bool IsOutage(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException)
                return true;
            // Npgsql reports a connection broken mid-command as a plain NpgsqlException with an IO error inside.
            if (e is NpgsqlException && e.InnerException is IOException or EndOfStreamException)
                return true;
        }
        return false;
    }

    /// <summary>
    /// True when the host's own connection pool had no free connection within its <c>Timeout</c>: the database is
    /// up, but this host is at its <c>Maximum Pool Size</c>. Npgsql says so only in its message.
    /// </summary>
    public static bool IsPoolExhausted(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is NpgsqlException && e.Message.Contains("pool has been exhausted", StringComparison.Ordinal))
                return true;
        return false;
    }

    /// <summary>
    /// Runs <paramref name="action"/>, retrying outages with backoff (0.25 s doubling to 5 s) for up to
    /// <paramref name="tolerance"/>; anything else, or an outage longer than that, is thrown.
    /// </summary>
    public static async Task<T> RetryAsync<T>(
        Func<Task<T>> action,
        TimeSpan tolerance,
        ILogger logger,
        string what,
        CancellationToken ct
    )
    {
        var giveUpAt = DateTime.UtcNow + tolerance;
        var delay = TimeSpan.FromMilliseconds(250);
        for (int failures = 0; ; failures++)
        {
            try
            {
                var result = await action();
                if (failures > 0)
                    logger.LogInformation(
                        "PostgreSQL answers again; {What} succeeded after {Failures} failed tries.",
                        what,
                        failures
                    );
                return result;
            }
            catch (Exception e) when (IsOutage(e) && DateTime.UtcNow + delay < giveUpAt && !ct.IsCancellationRequested)
            {
                if (failures == 0)
                    logger.LogWarning(
                        "PostgreSQL is unavailable ({Error}); retrying {What} for up to {Tolerance}.",
                        e.Message,
                        what,
                        tolerance
                    );
                // Connections in the pool died with the server; fresh ones are needed once it is back.
                NpgsqlConnection.ClearAllPools();
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public static Task RetryAsync(
        Func<Task> action,
        TimeSpan tolerance,
        ILogger logger,
        string what,
        CancellationToken ct
    ) =>
        RetryAsync(
            async () =>
            {
                await action();
                return true;
            },
            tolerance,
            logger,
            what,
            ct
        );
}
