using System.Security.Claims;
using GanService.Datasets;
using GanService.Jobs;
using Microsoft.Extensions.Options;

namespace GanService.Auth;

/// <summary>
/// Who is asking: the owner of the API key sent (an admin sees every owner's resources), or nobody. Bound as an
/// endpoint parameter, so every handler that reads owned data names its caller.
/// </summary>
public sealed record Caller(string Owner, bool IsAdmin)
{
    public const string AdminRole = "admin";
    public static readonly Caller Anonymous = new("", false);

    public bool IsAnonymous => Owner.Length == 0;

    /// <summary>Every request while authentication is off.</summary>
    public static readonly Caller Local = new(ApiKeyAuthentication.LocalOwner, true);

    public static ValueTask<Caller?> BindAsync(HttpContext http) => ValueTask.FromResult<Caller?>(From(http));

    public static Caller From(HttpContext http) =>
        !http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled ? Local : From(http.User);

    public static Caller From(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.FindFirstValue(ClaimTypes.Name) is { } owner
            ? new Caller(owner, user.IsInRole(AdminRole))
            : Anonymous;

    /// <summary>A key for per-caller limits: the owner, or the client address for anonymous requests.</summary>
    public static string PartitionKey(HttpContext http) =>
        From(http) is { IsAnonymous: false } caller ? $"owner:{caller.Owner}" : $"ip:{http.Connection.RemoteIpAddress}";
}

public static class Ownership
{
    /// <summary>The caller's own jobs (every job for an admin). Another owner's job is simply not found.</summary>
    public static IQueryable<TrainingJob> OwnedBy(this IQueryable<TrainingJob> jobs, Caller caller) =>
        caller.IsAdmin ? jobs : jobs.Where(j => j.Owner == caller.Owner);

    /// <summary>
    /// Jobs whose generator the caller may sample: their own, and public ones (for anyone, even without a key).
    /// SamplingPipeline's compiled lookup states the same rule in its own query; change both together.
    /// </summary>
    public static IQueryable<TrainingJob> SampleableBy(this IQueryable<TrainingJob> jobs, Caller caller) =>
        caller.IsAdmin ? jobs : jobs.Where(j => j.Public || j.Owner == caller.Owner);

    public static IQueryable<Dataset> OwnedBy(this IQueryable<Dataset> datasets, Caller caller) =>
        caller.IsAdmin ? datasets : datasets.Where(d => d.Owner == caller.Owner);
}
