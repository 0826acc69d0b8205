using GanService.Evaluations;

namespace GanService.Tests;

/// <summary>
/// When the collapse alarm fires, on rows as the store holds them: near-duplicates always, low recall only once the
/// run had variety to lose (an early generator's recall is low without any collapse).
/// </summary>
public sealed class CollapseRuleTests
{
    private static EvaluationRecord Row(long step, double recall, double duplicates, double? fd = null) =>
        new()
        {
            JobId = Guid.Empty,
            Step = step,
            Samples = 64,
            Status = EvaluationStatus.Succeeded,
            Network = "resnet18",
            Fd = fd ?? 100 - step,
            Recall = recall,
            DuplicateShare = duplicates,
        };

    private static List<JobWarning> Collapses(params EvaluationRecord[] rows) =>
        QualityAlarms
            .Warnings(rows, patience: null, new EvaluationOptions())
            .Where(w => w.Code == QualityAlarms.Collapse)
            .ToList();

    [Fact]
    public void An_early_generator_with_low_recall_and_no_duplicates_raises_nothing() =>
        Assert.Empty(Collapses(Row(10, 0.004, 0), Row(20, 0.02, 0)));

    [Fact]
    public void Recall_lost_after_the_run_had_it_raises_the_alarm_at_that_step()
    {
        var alarm = Assert.Single(Collapses(Row(10, 0.01, 0), Row(20, 0.3, 0), Row(30, 0.02, 0), Row(40, 0.01, 0)));
        Assert.Equal(30, alarm.Step);
    }

    [Fact]
    public void Near_duplicate_samples_raise_the_alarm_at_once_and_again_after_a_recovery()
    {
        var alarms = Collapses(Row(10, 0.001, 0.9), Row(20, 0.2, 0.1), Row(30, 0.2, 0.8));
        Assert.Equal([10L, 30], alarms.Select(a => a.Step!.Value));
    }

    [Fact]
    public void Early_stopping_counts_only_the_evaluations_after_a_continuation()
    {
        // The best was at step 20; 30 and 40 did not improve on it, nor will 50 and 60.
        EvaluationRecord[] rows = [Row(10, 0.3, 0), Row(20, 0.3, 0, fd: 10), Row(30, 0.3, 0), Row(40, 0.3, 0)];
        Assert.True(QualityAlarms.ShouldStop(rows, patience: 2));
        Assert.False(QualityAlarms.ShouldStop(rows, patience: 2, continuedFrom: 40));
        Assert.False(QualityAlarms.ShouldStop([.. rows, Row(50, 0.3, 0)], patience: 2, continuedFrom: 40));
        Assert.True(QualityAlarms.ShouldStop([.. rows, Row(50, 0.3, 0), Row(60, 0.3, 0)], 2, continuedFrom: 40));
    }
}
