using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Auth;

/// <summary>
/// Creates, verifies and revokes API keys; verified keys are remembered briefly so a request costs no query.
/// </summary>
public sealed class ApiKeyStore(
    IDbContextFactory<GanDbContext> contexts,
    IOptions<AuthOptions> options,
    TimeProvider time
)
{
    public const string KeyPrefix = "gsk_";
    private readonly ConcurrentDictionary<string, (string Owner, DateTimeOffset Until)> verified = new();

    public static string Hash(string key) => Gan.Checkpoints.CheckpointBundle.Sha256(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// A new key for <paramref name="owner"/>; the returned secret is never stored and cannot be shown again.
    /// </summary>
    public async Task<(ApiKey Row, string Secret)> CreateAsync(string owner, string name, CancellationToken ct)
    {
        var secret = KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var row = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Owner = owner,
            Name = name,
            Hash = Hash(secret),
            Prefix = secret[..12],
            CreatedAt = time.GetUtcNow(),
        };
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(ct);
        return (row, secret);
    }

    /// <summary>The owner of a valid, unrevoked key, or null.</summary>
    public async Task<string?> VerifyAsync(string key, CancellationToken ct)
    {
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal) || key.Length > 100)
            return null;
        var hash = Hash(key);
        var now = time.GetUtcNow();
        if (verified.TryGetValue(hash, out var hit) && hit.Until > now)
            return hit.Owner;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var owner = await db
            .ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => k.Owner)
            .SingleOrDefaultAsync(ct);
        if (owner is null)
            verified.TryRemove(hash, out _);
        else
            verified[hash] = (owner, now + options.Value.CacheFor);
        return owner;
    }

    public async Task<bool> RevokeAsync(Guid id, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
        if (key is null)
            return false;
        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        verified.TryRemove(key.Hash, out _); // at once here; other hosts within Gan:Auth:CacheFor
        return true;
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
