using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

/// <summary>
/// The Hangfire dashboard at /hangfire: basic auth with <c>Gan:DashboardUser</c> and <c>Gan:DashboardPassword</c>,
/// or local requests only when they are not set.
/// </summary>
public static class Dashboard
{
    public static WebApplication MapDashboard(this WebApplication app)
    {
        var gan = app.Services.GetRequiredService<IOptions<GanOptions>>().Value;
        IDashboardAuthorizationFilter filter = string.IsNullOrEmpty(gan.DashboardUser) || string.IsNullOrEmpty(gan.DashboardPassword)
            ? new LocalRequestsOnlyAuthorizationFilter()
            : new BasicAuthFilter(gan.DashboardUser, gan.DashboardPassword);
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [filter], DashboardTitle = "GanService jobs" });
        return app;
    }

    private sealed class BasicAuthFilter(string user, string password) : IDashboardAuthorizationFilter
    {
        private readonly byte[] expected = Encoding.UTF8.GetBytes($"{user}:{password}");

        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            if (AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header)
                && header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && header.Parameter is not null)
            {
                try
                {
                    if (CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(header.Parameter), expected)) return true;
                }
                catch (FormatException)
                {
                }
            }
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"GanService dashboard\"";
            return false;
        }
    }
}
