using System.Diagnostics;
using GanService.Gan.Families;
using GanService.Gan.Quality;
using GanService.Gan.Training;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Evaluations;

/// <summary>
/// The real statistics a job is judged against, computed at most once per dataset, domain, image shape and feature
/// network, and kept in PostgreSQL for every job and worker. Two workers that miss at once both compute them (the
/// same numbers, since the pick is seeded) and the first insert wins.
/// </summary>
public sealed class RealStatisticsStore(IDbContextFactory<GanDbContext> contexts)
{
    /// <summary>
    /// What identifies the images: the dataset's SHA-256 (a synthetic dataset's name and seed), the domain judged
    /// (B, the targets, for translation families), the shape the job trains at, and the network and its side.
    /// </summary>
    public static string Key(JobSpec spec, string? datasetSha256, int side)
    {
        var model = spec.Plan.Model;
        var dataset = datasetSha256 ?? $"{spec.Dataset}-seed{spec.Plan.Seed}";
        return $"{dataset}/{Domain(model)}/{model.ImageSize}x{model.Channels}/{FeatureNetwork.Name}@{side}";
    }

    private static string Domain(ModelRecipe model) => ModelFamily.Of(model).Translates ? "B" : "A";

    public async Task<RealStatistics?> FindAsync(string key, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var bytes = await db.RealStatistics.Where(s => s.Key == key).Select(s => s.Statistics).SingleOrDefaultAsync(ct);
        return bytes is null ? null : Gan.Quality.RealStatistics.FromBytes(bytes);
    }

    /// <summary>The statistics of <paramref name="data"/>, computed on the calling thread, and their row.</summary>
    public static (RealStatistics Statistics, RealStatisticsRecord Record) Compute(
        string key,
        JobSpec spec,
        string? datasetSha256,
        FeatureNetwork network,
        TrainingData data,
        int count,
        CancellationToken ct
    )
    {
        var clock = Stopwatch.StartNew();
        var statistics = GeneratorEvaluator.RealStatistics(network, spec.Plan, data, count, ct);
        var record = new RealStatisticsRecord
        {
            Key = key,
            DatasetSha256 = datasetSha256 ?? spec.Dataset,
            Domain = Domain(spec.Plan.Model),
            ImageSize = spec.Plan.Model.ImageSize,
            Channels = spec.Plan.Model.Channels,
            Network = statistics.Network,
            Side = statistics.Side,
            Count = statistics.Count,
            Seconds = clock.Elapsed.TotalSeconds,
            Statistics = statistics.ToBytes(),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        return (statistics, record);
    }

    /// <summary>Stores computed statistics unless another worker stored the same first.</summary>
    public async Task SaveAsync(RealStatisticsRecord record, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.RealStatistics.Add(record);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (UniqueViolation.Is(e)) { }
    }
}
