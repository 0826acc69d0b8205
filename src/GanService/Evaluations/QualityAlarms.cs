namespace GanService.Evaluations;

/// <summary>A warning on a job, with the step it was raised at (null for one that is not about a step).</summary>
public sealed record JobWarning(string Code, string Message, long? Step);

/// <summary>
/// What a job's evaluations say beyond their numbers: mode collapse, a Frechet distance that stopped improving, an
/// evaluation that failed; and whether early stopping ends the job. Derived from the stored rows each time, so a
/// crash or a re-run can neither lose an alarm nor raise one twice.
/// </summary>
public static class QualityAlarms
{
    public const string Collapse = "mode-collapse",
        Plateau = "no-improvement",
        Failed = "evaluation-failed";

    /// <summary>Evaluations since the one with the lowest Frechet distance (the first of equals).</summary>
    public static int SinceBest(IReadOnlyList<EvaluationRecord> evaluations)
    {
        var scored = evaluations.Where(e => e is { Status: EvaluationStatus.Succeeded, Fd: not null }).ToList();
        if (scored.Count == 0)
            return 0;
        int best = 0;
        for (int i = 1; i < scored.Count; i++)
            if (scored[i].Fd < scored[best].Fd)
                best = i;
        return scored.Count - 1 - best;
    }

    /// <summary>
    /// Early stopping's rule: <paramref name="patience"/> evaluations in a row without a new best. A job continued at
    /// <paramref name="continuedFrom"/> was asked to train further, so only evaluations after that step count.
    /// </summary>
    public static bool ShouldStop(
        IReadOnlyList<EvaluationRecord> evaluations,
        int? patience,
        long? continuedFrom = null
    ) =>
        patience is { } n && SinceBest(evaluations) >= n && evaluations.Count(e => e.Step > (continuedFrom ?? -1)) >= n;

    public static string StopReason(int patience) =>
        $"no improvement in {patience} evaluation{(patience == 1 ? "" : "s")}";

    /// <summary>The job's warnings from its finished evaluations at its own sample count, in step order.</summary>
    public static List<JobWarning> Warnings(
        IReadOnlyList<EvaluationRecord> evaluations,
        int? patience,
        EvaluationOptions options
    )
    {
        var warnings = new List<JobWarning>();
        bool collapsed = false,
            hadVariety = false;
        foreach (var e in evaluations)
        {
            if (e.Status == EvaluationStatus.Failed)
            {
                warnings.Add(new(Failed, $"The evaluation at step {e.Step} failed: {e.Error}", e.Step));
                continue;
            }
            // Low recall alone is also what a generator early in training has: it is a collapse only once the run
            // had variety and lost it. Near-duplicate samples are a collapse whenever they appear.
            bool now =
                e.DuplicateShare > options.CollapseDuplicateShare || (hadVariety && e.Recall < options.CollapseRecall);
            hadVariety |= e.Recall >= 2 * options.CollapseRecall;
            // One alarm per collapsed stretch, at its first step: the same collapse is not news at every step.
            if (now && !collapsed)
                warnings.Add(
                    new(
                        Collapse,
                        $"Mode collapse at step {e.Step}: recall {e.Recall:0.###} (alarm below "
                            + $"{options.CollapseRecall}), {e.DuplicateShare:P0} of the samples near-duplicates "
                            + $"(alarm above {options.CollapseDuplicateShare:P0}).",
                        e.Step
                    )
                );
            collapsed = now;
        }
        int plateau = patience ?? EvaluationPlan.DefaultPlateau;
        int since = SinceBest(evaluations);
        if (since >= plateau)
        {
            var scored = evaluations.Where(e => e is { Status: EvaluationStatus.Succeeded, Fd: not null }).ToList();
            var raised = scored[^(since - plateau + 1)];
            var best = scored[^(since + 1)];
            warnings.Add(
                new(
                    Plateau,
                    $"The Frechet distance has not improved for {since} evaluations: the best, {best.Fd:0.###}, is "
                        + $"still that of step {best.Step}.",
                    raised.Step
                )
            );
        }
        return warnings;
    }
}
