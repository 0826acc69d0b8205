using System.Text.Json;
using System.Text.Json.Serialization;
using GanService.Hosting;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Idempotency;

/// <summary>
/// A row of <c>gan.idempotency_keys</c>: what one <c>Idempotency-Key</c> created, and from which request body.
/// </summary>
public sealed class IdempotencyRecord
{
    public required string Owner { get; set; }
    public required string Operation { get; set; }
    public required string Key { get; set; }
    public required string RequestHash { get; set; }
    public Guid ResourceId { get; set; }
    public int StatusCode { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// The <c>Idempotency-Key</c> header on creating requests: a retried request (same key, same body) gets the resource
/// the first one created instead of a second one; the same key with a different body is a 409. Keys are per owner
/// and remembered for <see cref="Retention"/>.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key",
        ReplayedHeader = "Idempotent-Replayed";
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>The header's value; null without one; an error for an empty, overlong or non-ASCII one.</summary>
    public static (string? Key, ValidationProblem? Error) Read(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
            return (null, null);
        var key = values.Count == 1 ? values[0]?.Trim() : null;
        if (key is null or { Length: 0 or > 200 } || key.Any(c => c is < ' ' or > '~'))
            return (
                null,
                Problems.Invalid(
                    Header,
                    "Send one key of 1 to 200 printable ASCII characters (a UUID is a good choice).",
                    "The Idempotency-Key header is invalid."
                )
            );
        return (key, null);
    }

    /// <summary>
    /// The fingerprint of a bound request. The web's JSON options read "NaN" and "Infinity" in numeric fields (the
    /// validator then rejects them with a 400), so the fingerprint must be able to write them too.
    /// </summary>
    public static string Hash<T>(T request) =>
        Gan.Checkpoints.CheckpointBundle.Sha256(JsonSerializer.SerializeToUtf8Bytes(request, Fingerprint));

    private static readonly JsonSerializerOptions Fingerprint = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The record a key left within the retention period, or null (an expired one is removed).</summary>
    public static async Task<IdempotencyRecord?> FindAsync(
        GanDbContext db,
        string owner,
        string operation,
        string key,
        CancellationToken ct
    )
    {
        var record = await db.IdempotencyKeys.SingleOrDefaultAsync(
            r => r.Owner == owner && r.Operation == operation && r.Key == key,
            ct
        );
        if (record is null || record.CreatedAt > DateTimeOffset.UtcNow - Retention)
            return record;
        db.IdempotencyKeys.Remove(record);
        await db.SaveChangesAsync(ct);
        return null;
    }

    public static IdempotencyRecord Record(
        string owner,
        string operation,
        string key,
        string hash,
        Guid resourceId,
        int status
    ) =>
        new()
        {
            Owner = owner,
            Operation = operation,
            Key = key,
            RequestHash = hash,
            ResourceId = resourceId,
            StatusCode = status,
            CreatedAt = DateTimeOffset.UtcNow,
        };

    public static ProblemHttpResult Mismatch(string key) =>
        Problems.Naming(
            StatusCodes.Status409Conflict,
            "The Idempotency-Key was used with a different request.",
            $"Key '{key}' already created a resource from another request body; use a new key for a new request.",
            Header,
            "Already used with a different body."
        );

    public static void MarkReplayed(HttpResponse response) => response.Headers[ReplayedHeader] = "true";
}
