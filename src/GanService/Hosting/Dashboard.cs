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
    /// <summary>
    /// Antiforgery for the dashboard's buttons: a browser that holds the basic-auth credentials would otherwise send
    /// them along with a forged cross-site POST (delete, requeue). Hangfire validates its token when the service
    /// exists.
    /// </summary>
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddAntiforgery();
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        var gan = app.Services.GetRequiredService<IOptions<GanOptions>>().Value;
        var auth = app.Services.GetRequiredService<IOptions<Auth.AuthOptions>>().Value;
        IDashboardAuthorizationFilter filter =
            auth.Enabled
                ? new BasicAuthFilter(
                    (_, password) => Auth.ApiKeyAuthentication.IsAdminKey(auth, password),
                    "GanService dashboard (password: the admin key)"
                )
            : string.IsNullOrEmpty(gan.DashboardUser) || string.IsNullOrEmpty(gan.DashboardPassword)
                ? new LocalRequestsOnlyAuthorizationFilter()
            : new BasicAuthFilter(Matches($"{gan.DashboardUser}:{gan.DashboardPassword}"), "GanService dashboard");
        app.UseHangfireDashboard(
            "/hangfire",
            new DashboardOptions { Authorization = [filter], DashboardTitle = "GanService jobs" }
        );
        return app;
    }

    /// <summary>
    /// Compares in fixed time, so the response time says nothing about how much of a guess was right.
    /// </summary>
    private static Func<string, string, bool> Matches(string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(expected);
        return (user, password) =>
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes($"{user}:{password}"), bytes);
    }

    /// <summary>
    /// Basic auth for browsers, with <paramref name="accepts"/> judging the user and password sent. A caller already
    /// authenticated as an admin (the admin key as X-Api-Key) passes too.
    /// </summary>
    private sealed class BasicAuthFilter(Func<string, string, bool> accepts, string realm)
        : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            if (
                Auth.Caller.From(http.User).IsAdmin
                || Credentials(http) is { } sent && accepts(sent.User, sent.Password)
            )
                return true;
            http.Response.Headers.WWWAuthenticate = $"Basic realm=\"{realm}\"";
            return false;
        }

        private static (string User, string Password)? Credentials(HttpContext http)
        {
            if (
                !AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header)
                || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)
                || header.Parameter is null
            )
                return null;
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
                int colon = pair.IndexOf(':');
                return colon < 0 ? null : (pair[..colon], pair[(colon + 1)..]);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
