using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace GanService.Auth;

public static class AuthExtensions
{
    public const string AdminPolicy = "admin";

    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        builder
            .Services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.Section)
            .Validate(
                a => !a.Enabled || a.AdminKey is { Length: >= 32 },
                "Gan:Auth:Enabled needs Gan:Auth:AdminKey, at least 32 characters (e.g. `openssl rand -hex 32`)."
            )
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ApiKeyStore>();
        builder
            .Services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        builder.Services.AddAuthorization();
        builder
            .Services.AddOptions<AuthorizationOptions>()
            .Configure<IOptions<AuthOptions>>(
                (authorization, auth) =>
                {
                    if (auth.Value.Enabled)
                    {
                        authorization.AddPolicy(AdminPolicy, policy => policy.RequireRole(Caller.AdminRole));
                        return;
                    }
                    // Off: everyone is the local admin (see Caller), so every policy admits every request.
                    var open = new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build();
                    authorization.DefaultPolicy = open;
                    authorization.AddPolicy(AdminPolicy, open);
                }
            );
        return builder;
    }
}
