using System.Text.RegularExpressions;
using GanService.Hosting;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Auth;

/// <param name="Owner">Who the key acts for: 1 to 100 letters, digits, '.', '_', '-' or '@'. Jobs and datasets belong
/// to owners.</param>
/// <param name="Name">What the key is for (a script, a service), to tell keys apart.</param>
public sealed record CreateKeyRequest(string? Owner, string? Name);

/// <summary>An API key as listed: never the secret. <c>Key</c> is set only in the answer to its creation.</summary>
public sealed record KeyResponse(
    Guid Id,
    string Owner,
    string Name,
    string Prefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string? Key = null
);

public sealed record CallerResponse(string Owner, bool Admin, bool AuthenticationEnabled);

public static partial class KeysApi
{
    public static RouteGroupBuilder MapKeys(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/keys").WithTags("API keys");
        group
            .MapGet("/current", Current)
            .RequireAuthorization()
            .WithName("GetCurrentCaller")
            .WithSummary("Who the key sent belongs to");
        var admin = group.MapGroup("").RequireAuthorization(AuthExtensions.AdminPolicy);
        admin
            .MapPost("/", Create)
            .WithName("CreateKey")
            .WithSummary("Create an API key for an owner (admin)")
            .WithDescription(
                "Answers the key once, in `key`; only its SHA-256 is stored. Send it as the X-Api-Key header."
            );
        admin.MapGet("/", List).WithName("ListKeys").WithSummary("Every API key, without secrets (admin)");
        admin
            .MapDelete("/{id:guid}", Revoke)
            .WithName("RevokeKey")
            .WithSummary("Revoke an API key (admin)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static CallerResponse Current(Caller caller, Microsoft.Extensions.Options.IOptions<AuthOptions> auth) =>
        new(caller.Owner, caller.IsAdmin, auth.Value.Enabled);

    private static async Task<Results<Created<KeyResponse>, ValidationProblem>> Create(
        CreateKeyRequest request,
        ApiKeyStore keys,
        CancellationToken ct
    )
    {
        var errors = new Dictionary<string, string[]>();
        var owner = request.Owner?.Trim() ?? "";
        if (!OwnerPattern().IsMatch(owner))
            errors["owner"] = ["Required: 1 to 100 letters, digits, '.', '_', '-' or '@'."];
        else if (ReservedOwners.Contains(owner))
            errors["owner"] =
            [
                $"'{owner}' is reserved: it names what the admin key (or every caller, with keys off) owns.",
            ];
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 200)
            errors["name"] = ["Required, at most 200 characters."];
        else if (!InputRules.IsPlainText(name))
            errors["name"] = [InputRules.PlainTextRule];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors, title: "The key request is invalid.");
        var (row, secret) = await keys.CreateAsync(owner, name, ct);
        return TypedResults.Created($"/api/keys/{row.Id}", ToResponse(row) with { Key = secret });
    }

    private static async Task<Ok<List<KeyResponse>>> List(GanDbContext db, CancellationToken ct) =>
        TypedResults.Ok(
            (await db.ApiKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ToListAsync(ct)).Select(ToResponse).ToList()
        );

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        Guid id,
        ApiKeyStore keys,
        CancellationToken ct
    ) =>
        await keys.RevokeAsync(id, ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("No such key.", $"There is no API key with id {id}.");

    private static KeyResponse ToResponse(ApiKey k) => new(k.Id, k.Owner, k.Name, k.Prefix, k.CreatedAt, k.RevokedAt);

    /// <summary>
    /// The admin key's own owner and the keyless local owner: a key for either would share their jobs.
    /// </summary>
    private static readonly HashSet<string> ReservedOwners = new(
        [ApiKeyAuthentication.AdminOwner, ApiKeyAuthentication.LocalOwner],
        StringComparer.OrdinalIgnoreCase
    );

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,100}$")]
    private static partial Regex OwnerPattern();
}
