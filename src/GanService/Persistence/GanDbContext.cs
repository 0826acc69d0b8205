using GanService.Auth;
using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Evaluations;
using GanService.Idempotency;
using GanService.Jobs;
using Microsoft.EntityFrameworkCore;

namespace GanService.Persistence;

public sealed class GanDbContext(DbContextOptions<GanDbContext> options) : DbContext(options)
{
    public const string Schema = "gan";

    public DbSet<TrainingJob> Jobs => Set<TrainingJob>();
    public DbSet<TrainingMetric> Metrics => Set<TrainingMetric>();
    public DbSet<Checkpoint> Checkpoints => Set<Checkpoint>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<JobAttempt> Attempts => Set<JobAttempt>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();
    public DbSet<EvaluationRecord> Evaluations => Set<EvaluationRecord>();
    public DbSet<RealStatisticsRecord> RealStatistics => Set<RealStatisticsRecord>();
    public DbSet<Events.JobEventRecord> JobEvents => Set<Events.JobEventRecord>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.HasDefaultSchema(Schema);
        model.Entity<TrainingJob>(job =>
        {
            job.ToTable("training_jobs");
            job.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
            job.Property(j => j.Recipe).HasColumnType("jsonb");
            job.Property(j => j.Name).HasMaxLength(200);
            job.Property(j => j.Dataset).HasMaxLength(200);
            job.Property(j => j.Device).HasMaxLength(8);
            job.HasIndex(j => new { j.Status, j.CreatedAt });
            job.HasIndex(j => j.CreatedAt);
            job.HasIndex(j => new { j.Owner, j.CreatedAt });
            job.Property(j => j.Owner).HasMaxLength(100);
            job.Property(j => j.StopReason).HasMaxLength(200);
        });
        model.Entity<EvaluationRecord>(evaluation =>
        {
            evaluation.ToTable("evaluations");
            evaluation.HasKey(e => new
            {
                e.JobId,
                e.Step,
                e.Samples,
            });
            evaluation.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            evaluation.Property(e => e.Network).HasMaxLength(64);
            evaluation.Property(e => e.Error).HasMaxLength(1000);
            evaluation.HasOne<TrainingJob>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<RealStatisticsRecord>(statistics =>
        {
            statistics.ToTable("real_statistics");
            statistics.HasKey(s => s.Key);
            statistics.Property(s => s.Key).HasMaxLength(300);
            statistics.Property(s => s.DatasetSha256).HasMaxLength(200);
            statistics.Property(s => s.Domain).HasMaxLength(8);
            statistics.Property(s => s.Network).HasMaxLength(64);
        });
        model.Entity<Dataset>(dataset =>
        {
            dataset.ToTable("datasets");
            // Content-addressed per owner: the same upload is one dataset for its owner, never shared across owners.
            dataset.HasIndex(d => new { d.Owner, d.Sha256 }).IsUnique();
            dataset.Property(d => d.Owner).HasMaxLength(100);
            dataset.HasIndex(d => d.CreatedAt);
            dataset.Property(d => d.Kind).HasConversion<string>().HasMaxLength(16);
            dataset.Property(d => d.Classes).HasColumnType("jsonb");
            dataset.Property(d => d.Name).HasMaxLength(200);
            dataset.Property(d => d.Format).HasMaxLength(16);
            dataset.Property(d => d.Sha256).HasMaxLength(64);
        });
        model.Entity<TrainingMetric>(metric =>
        {
            metric.ToTable("training_metrics");
            metric.HasKey(m => new { m.JobId, m.Step });
            metric.HasOne<TrainingJob>().WithMany().HasForeignKey(m => m.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ApiKey>(key =>
        {
            key.ToTable("api_keys");
            key.HasIndex(k => k.Hash).IsUnique();
            key.Property(k => k.Hash).HasMaxLength(64);
            key.Property(k => k.Owner).HasMaxLength(100);
            key.Property(k => k.Name).HasMaxLength(200);
            key.Property(k => k.Prefix).HasMaxLength(12);
        });
        model.Entity<IdempotencyRecord>(record =>
        {
            record.ToTable("idempotency_keys");
            record.HasKey(r => new
            {
                r.Owner,
                r.Operation,
                r.Key,
            });
            record.Property(r => r.Owner).HasMaxLength(100);
            record.Property(r => r.Operation).HasMaxLength(32);
            record.Property(r => r.Key).HasMaxLength(200);
            record.Property(r => r.RequestHash).HasMaxLength(64);
        });
        model.Entity<JobAttempt>(attempt =>
        {
            attempt.ToTable("job_attempts");
            attempt.HasKey(a => new { a.JobId, a.Number });
            attempt.Property(a => a.Outcome).HasMaxLength(16);
            attempt.HasOne<TrainingJob>().WithMany().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Events.JobEventRecord>(e =>
        {
            // Written only by the database triggers that migration JobEvents creates.
            e.ToTable("job_events");
            e.Property(x => x.Type).HasMaxLength(16);
            e.Property(x => x.Status).HasMaxLength(16);
            e.Property(x => x.Owner).HasMaxLength(100);
            e.Property(x => x.CreatedAt).HasDefaultValueSql("now()");
            e.HasIndex(x => new { x.JobId, x.Id });
            e.HasIndex(x => new { x.Owner, x.Id });
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Checkpoint>(checkpoint =>
        {
            checkpoint.ToTable("checkpoints");
            checkpoint.HasIndex(c => new { c.JobId, c.Step }).IsUnique();
            checkpoint.Property(c => c.Sha256).HasMaxLength(64);
            checkpoint.HasOne<TrainingJob>().WithMany().HasForeignKey(c => c.JobId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
