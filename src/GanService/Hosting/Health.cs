using GanService.Persistence;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GanService.Hosting;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: PostgreSQL and the Hangfire storage answer.
/// </summary>
public static class Health
{
    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        builder
            .Services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("postgres", tags: ["ready"])
            .AddCheck<QueueCheck>("hangfire", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") })
            .WithTags("Health");
        return app;
    }

    private sealed class DatabaseCheck(IDbContextFactory<GanDbContext> contexts) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.CanConnectAsync(ct)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("PostgreSQL does not answer.");
        }
    }

    private sealed class QueueCheck(JobStorage storage) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            try
            {
                var servers = storage.GetMonitoringApi().Servers().Count;
                return Task.FromResult(HealthCheckResult.Healthy($"{servers} Hangfire server(s) registered."));
            }
            catch (Exception e)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("The Hangfire storage does not answer.", e));
            }
        }
    }
}
