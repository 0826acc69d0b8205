namespace GanService.Auth;

/// <summary>
/// A row of <c>gan.api_keys</c>. Only the key's SHA-256 is stored; the key itself is shown once, at creation.
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string Owner { get; set; }
    public required string Name { get; set; }

    /// <summary>
    /// SHA-256 (hex) of the whole key. Keys are 256 random bits, so a fast hash is enough: nothing to brute-force.
    /// </summary>
    public required string Hash { get; set; }

    /// <summary>The key's first characters, so an owner can tell keys apart without the secret.</summary>
    public required string Prefix { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>The <c>Gan:Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Gan:Auth";

    /// <summary>Off by default for a local, single-user service; every caller is then the admin.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The admin key (from a secret, never committed): it creates and revokes owners' keys and opens the dashboard.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// How long a verified key is remembered in memory; a revoked key stops working on other hosts within this.
    /// </summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With authentication off, allow listening beyond loopback: only where the network in front is private (a
    /// container whose port is published on the host's loopback).
    /// </summary>
    public bool AllowAnonymousNetwork { get; set; }
}
