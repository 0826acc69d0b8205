using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

/// <summary>
/// The host's sampling concurrency: twice <see cref="RateLimitOptions.EffectiveSamplingConcurrency"/> requests at
/// once, <see cref="RateLimitOptions.SamplingQueue"/> waiting. Sampling endpoints hold a permit for the whole request
/// (through the global rate limiter); a translation takes one only around its render, so that an upload still
/// arriving holds none.
/// </summary>
public sealed class RenderPermits : IDisposable
{
    private readonly ConcurrencyLimiter limiter;

    public RenderPermits(IOptions<RateLimitOptions> options)
    {
        var limits = options.Value;
        limiter = new ConcurrencyLimiter(
            new ConcurrencyLimiterOptions
            {
                PermitLimit = 2 * limits.EffectiveSamplingConcurrency,
                QueueLimit = limits.SamplingQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }
        );
        Shared = new NeverIdle(limiter);
    }

    /// <summary>
    /// The limiter as the global rate limiter's partition. It never reports itself idle: the partitioned limiter
    /// disposes idle partitions, and this one lives as long as the host.
    /// </summary>
    public RateLimiter Shared { get; }

    /// <summary>A permit, waiting in the queue if need be; <c>IsAcquired</c> is false when the queue is full.</summary>
    public ValueTask<RateLimitLease> AcquireAsync(CancellationToken ct) => limiter.AcquireAsync(1, ct);

    public void Dispose() => limiter.Dispose();

    private sealed class NeverIdle(RateLimiter inner) : RateLimiter
    {
        public override TimeSpan? IdleDuration => null;

        public override RateLimiterStatistics? GetStatistics() => inner.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => inner.AttemptAcquire(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken ct) =>
            inner.AcquireAsync(permitCount, ct);

        // The partitioned limiter disposes its partitions when the host stops; the permits' owner does that.
        protected override void Dispose(bool disposing) { }
    }
}

/// <summary>
/// The host's export slots (<c>Gan:RateLimits:ConcurrentExports</c>), taken before a render permit: an export holds
/// its generators' weights several times over, so a host runs fewer of them at once than it renders samples.
/// </summary>
public sealed class ExportPermits(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly ConcurrencyLimiter limiter = new(
        new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.ConcurrentExports,
            QueueLimit = options.Value.ExportQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }
    );

    /// <summary>A slot, waiting in the queue if need be; <c>IsAcquired</c> is false when the queue is full.</summary>
    public ValueTask<RateLimitLease> AcquireAsync(CancellationToken ct) => limiter.AcquireAsync(1, ct);

    public void Dispose() => limiter.Dispose();
}
