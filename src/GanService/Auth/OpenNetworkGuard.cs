using System.Net;
using Microsoft.Extensions.Options;

namespace GanService.Auth;

/// <summary>
/// With authentication off every caller is the admin, so such a host may listen only where the network cannot reach
/// it. A host serving the API on any other address refuses to start, unless the operator says the network in front of
/// it is private (<c>Gan:Auth:AllowAnonymousNetwork</c>, as docker-compose does for a port published on loopback).
/// </summary>
public static class OpenNetworkGuard
{
    /// <summary>Throws before the server starts when an anonymous API would listen beyond loopback.</summary>
    public static void RefuseAnonymousNetwork(this WebApplication app)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Enabled)
            return;
        var open = NonLoopback(app.Configuration).ToList();
        bool servesApi = app.Services.GetRequiredService<IOptions<Hosting.GanOptions>>().Value.ServesApi;
        if (servesApi && open.Count > 0 && !auth.AllowAnonymousNetwork)
            throw new InvalidOperationException(
                $"Authentication is off, and the API would listen on {string.Join(", ", open)}, beyond loopback: "
                    + "anyone who reaches it would be the admin. Set Gan:Auth:Enabled=true with Gan:Auth:AdminKey, "
                    + "listen on 127.0.0.1 only, or set Gan:Auth:AllowAnonymousNetwork=true if the network in front is "
                    + "private."
            );
        app.Logger.LogWarning(
            "AUTHENTICATION IS OFF: every caller is treated as the admin and owns everything. "
                + "Listening on {Addresses}.",
            open.Count > 0 ? string.Join(", ", open) : "loopback only"
        );
    }

    /// <summary>
    /// The configured addresses that are not loopback: <c>urls</c> (ASPNETCORE_URLS, --urls), the HTTP(S) port
    /// settings (which bind every interface) and Kestrel endpoints. None configured means Kestrel's localhost default.
    /// </summary>
    public static IEnumerable<string> NonLoopback(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        var ports = new[] { "http_ports", "https_ports" }
            .Select(key => configuration[key])
            .Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => $"port {p} on every interface");
        // Explicit URLs take precedence over the port settings, as in Kestrel.
        var listed = urls.ToList();
        return listed.Count > 0 ? listed.Where(url => !IsLoopback(url)) : ports;
    }

    private static bool IsLoopback(string url)
    {
        if (
            !Uri.TryCreate(
                url.Replace("://+", "://any-host").Replace("://*", "://any-host"),
                UriKind.Absolute,
                out var uri
            )
        )
            return false;
        var host = uri.Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }
}
