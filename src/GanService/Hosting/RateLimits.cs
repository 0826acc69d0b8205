using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using GanService.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

/// <summary>
/// The <c>Gan:RateLimits</c> section. Rates are per caller (API key owner, or client address without a key).
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Gan:RateLimits";

    [Range(1, 1_000_000)]
    public int SubmissionsPerMinute { get; set; } = 60;

    [Range(1, 1_000_000)]
    public int UploadsPerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int SamplesPerSecond { get; set; } = 1000;

    /// <summary>
    /// Samples and translations rendering at once on this host, each on one low-priority libtorch thread (0: one per
    /// core). Twice as many requests are admitted, so that the next one's lookups overlap a render.
    /// </summary>
    [Range(0, 1024)]
    public int SamplingConcurrency { get; set; }

    /// <summary>Sampling requests waiting for a slot before further ones get 429.</summary>
    [Range(0, 100_000)]
    public int SamplingQueue { get; set; } = 256;

    /// <summary>
    /// Exports running at once on this host; each holds its generators' weights several times over
    /// (docs/export.md), so there are fewer of them than renders.
    /// </summary>
    [Range(1, 1024)]
    public int ConcurrentExports { get; set; } = 1;

    /// <summary>Exports waiting for a slot before further ones get 429.</summary>
    [Range(0, 100_000)]
    public int ExportQueue { get; set; } = 16;

    public int EffectiveSamplingConcurrency =>
        SamplingConcurrency > 0 ? SamplingConcurrency : Environment.ProcessorCount;
}

/// <summary>ASP.NET Core's rate limiter: token buckets per caller for submissions, uploads and sampling, plus one
/// concurrency limit for all sampling on the host. A refusal is a 429 problem document with Retry-After.</summary>
public static class RateLimits
{
    public const string Submissions = "submissions",
        Uploads = "uploads",
        Sampling = "sampling";

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder
            .Services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<RenderPermits>();
        builder.Services.AddSingleton<ExportPermits>();
        builder.Services.AddRateLimiter(_ => { });
        builder
            .Services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<RateLimitOptions>, RenderPermits>(
                (limiter, configured, permits) =>
                {
                    var limits = configured.Value;
                    limiter.AddPolicy(Submissions, http =>
                        PerCaller(http, limits.SubmissionsPerMinute, TimeSpan.FromMinutes(1))
                    );
                    limiter.AddPolicy(Uploads, http =>
                        PerCaller(http, limits.UploadsPerMinute, TimeSpan.FromMinutes(1))
                    );
                    limiter.AddPolicy(Sampling, http =>
                        PerCaller(http, limits.SamplesPerSecond, TimeSpan.FromSeconds(1))
                    );
                    limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                        http.GetEndpoint()?.Metadata.GetMetadata<SamplingWork>() is null
                            ? RateLimitPartition.GetNoLimiter("")
                            : RateLimitPartition.Get(Sampling, _ => permits.Shared)
                    );
                    limiter.OnRejected = Reject;
                }
            );
        return builder;
    }

    /// <summary>Marks an endpoint as sampling: per-caller rate plus the host's sampling concurrency limit.</summary>
    public static TBuilder LimitedAsSampling<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder => endpoint.RatedAsSampling().WithMetadata(new SamplingWork());

    /// <summary>
    /// The per-caller sampling rate only: the endpoint takes a <see cref="RenderPermits"/> permit itself, around
    /// the part of its work that renders.
    /// </summary>
    public static TBuilder RatedAsSampling<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint
            .RequireRateLimiting(Sampling)
            .WithMetadata(
                new ProducesResponseTypeMetadata(
                    StatusCodes.Status429TooManyRequests,
                    typeof(ProblemDetails),
                    ["application/problem+json"]
                )
            );

    /// <summary>
    /// A bucket of <paramref name="permits"/> per caller, refilled evenly over <paramref name="period"/>.
    /// </summary>
    private static RateLimitPartition<string> PerCaller(HttpContext http, int permits, TimeSpan period) =>
        RateLimitPartition.GetTokenBucketLimiter(Caller.PartitionKey(http), _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = permits,
            TokensPerPeriod = Math.Max(1, permits / 10),
            ReplenishmentPeriod = period / 10,
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    private static async ValueTask Reject(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
            ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
            : 1;
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        // A result writes problem JSON even to a client that accepts only images or an event stream.
        await TypedResults
            .Problem(
                title: "Too many requests.",
                detail: $"This caller's limit for this kind of request is used up; retry after {retryAfter} s "
                    + "(Retry-After).",
                statusCode: StatusCodes.Status429TooManyRequests
            )
            .ExecuteAsync(http);
    }

    /// <summary>The answer when every render permit is taken and the queue is full, as the limiter gives it.</summary>
    public static ProblemHttpResult Busy(HttpContext http, string slot = "render slot")
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(
            title: "Too many requests.",
            detail: $"Every {slot} of this host is taken and its queue is full; retry after 1 s (Retry-After).",
            statusCode: StatusCodes.Status429TooManyRequests
        );
    }

    private sealed class SamplingWork;
}
