using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

/// <summary>
/// The Hangfire dashboard at /hangfire. With authentication on, admins only; otherwise basic auth with
/// <c>Gan:DashboardUser</c> and <c>Gan:DashboardPassword</c>, or local requests only when they are not set.
/// </summary>
public static class Dashboard
{
    public static WebApplication MapDashboard(this WebApplication app)
    {
        var gan = app.Services.GetRequiredService<IOptions<GanOptions>>().Value;
        var auth = app.Services.GetRequiredService<IOptions<Auth.AuthOptions>>().Value;
        IDashboardAuthorizationFilter filter = auth.Enabled ? new AdminFilter(auth)
            : string.IsNullOrEmpty(gan.DashboardUser) || string.IsNullOrEmpty(gan.DashboardPassword)
            ? new LocalRequestsOnlyAuthorizationFilter()
            : new BasicAuthFilter(gan.DashboardUser, gan.DashboardPassword);
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [filter], DashboardTitle = "GanService jobs" });
        return app;
    }

    /// <summary>With authentication on: the admin key, as X-Api-Key or as the password of basic auth (any user name) for browsers.</summary>
    private sealed class AdminFilter(Auth.AuthOptions auth) : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            if (Auth.Caller.From(http.User).IsAdmin) return true;
            if (AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header)
                && header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && header.Parameter is not null)
            {
                try
                {
                    var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
                    if (Auth.ApiKeyAuthentication.IsAdminKey(auth, pair[(pair.IndexOf(':') + 1)..])) return true;
                }
                catch (FormatException)
                {
                }
            }
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"GanService dashboard (password: the admin key)\"";
            return false;
        }
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
