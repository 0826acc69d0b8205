using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GanService.Auth;

/// <summary>
/// The <c>X-Api-Key</c> header: the configured admin key, or an owner's key from <see cref="ApiKeyStore"/>. With
/// authentication off nobody is authenticated here and <see cref="Caller"/> treats every request as the local admin
/// (so that the dashboard's own basic auth can still challenge browsers). Challenges and refusals are problem
/// documents.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<AuthOptions> auth,
    ApiKeyStore keys
) : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    public const string SchemeName = "ApiKey",
        Header = "X-Api-Key",
        LocalOwner = "local",
        AdminOwner = "admin";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!auth.Value.Enabled)
            return AuthenticateResult.NoResult();
        string? key = Request.Headers[Header];
        if (string.IsNullOrEmpty(key))
            return AuthenticateResult.NoResult();
        if (IsAdminKey(auth.Value, key))
            return Success(AdminOwner, admin: true);
        var owner = await keys.VerifyAsync(key, Context.RequestAborted);
        return owner is null
            ? AuthenticateResult.Fail("The API key is not valid or has been revoked.")
            : Success(owner, admin: false);
    }

    public static bool IsAdminKey(AuthOptions auth, string key) =>
        auth.AdminKey is { Length: > 0 } admin
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(admin));

    private AuthenticateResult Success(string owner, bool admin)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, owner) };
        if (admin)
            claims.Add(new Claim(ClaimTypes.Role, Caller.AdminRole));
        return AuthenticateResult.Success(
            new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName)
        );
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{Header}\"";
        await Problem(
            StatusCodes.Status401Unauthorized,
            "An API key is required.",
            failure?.Message ?? $"Send your key in the {Header} header."
        );
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problem(StatusCodes.Status403Forbidden, "Admins only.", "This endpoint needs the admin key.");

    private async Task Problem(int status, string title, string detail)
    {
        // As a result, not through IProblemDetailsService alone: that writes nothing for a client that accepts only
        // text/event-stream (a browser's EventSource), and the result then falls back to problem JSON.
        await TypedResults.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(Context);
    }
}
