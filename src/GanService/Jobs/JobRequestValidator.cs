using System.Security.Cryptography;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Losses;
using GanService.Gan.Training;
using GanService.Hosting;
using Microsoft.Extensions.Options;

namespace GanService.Jobs;

/// <summary>
/// Checks a job request field by field and fills in the defaults. Errors are keyed by the JSON path of the field
/// (e.g. <c>model.imageSize</c>) so a caller sees exactly what to fix.
/// </summary>
public sealed class JobRequestValidator(
    DatasetCatalog datasets,
    IOptions<GanOptions> options,
    IOptions<Evaluations.EvaluationOptions> evaluationLimits,
    IOptions<Retention.RetentionOptions> retention,
    ILogger<JobRequestValidator> logger
)
{
    public const int MaxSteps = 10_000_000,
        MaxBatchSize = 4096,
        MaxLatentSize = 4096;
    private static readonly string[] Devices = ["auto", "cpu", "cuda"];

    /// <param name="request">The request as sent.</param>
    /// <param name="uploaded">The uploaded dataset the request names by id, looked up by the caller; null
    /// otherwise.</param>
    public (JobSpec? Spec, Dictionary<string, string[]> Errors) Validate(
        CreateJobRequest? request,
        Dataset? uploaded = null
    )
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (request is null)
        {
            Fail("body", "A JSON body is required.");
            return (null, errors);
        }

        var dataset = request.Dataset?.Trim();
        bool byId = Guid.TryParse(dataset, out var datasetId);
        if (string.IsNullOrEmpty(dataset))
            Fail(
                "dataset",
                "Required: a dataset name such as 'synthetic', 'mnist', 'fashion-mnist' or 'cifar10', or an uploaded "
                    + "dataset's id."
            );
        else if (byId && uploaded is null)
            Fail("dataset", $"There is no uploaded dataset with id {datasetId}.");
        else if (byId)
            dataset = datasetId.ToString();
        else if (!datasets.IsKnown(dataset))
            Fail("dataset", $"Unknown dataset '{dataset}'. Known: {string.Join(", ", datasets.Names)}.");
        else if (!datasets.IsAvailable(dataset))
            NotInstalled(dataset);

        var family = request.Model?.Family?.Trim().ToLowerInvariant();
        var descriptor = ModelFamily.TryFind(family);
        var known = string.Join(", ", ModelFamily.All.Select(f => f.Name));
        if (request.Model is null)
            Fail("model", "Required: at least { \"family\": \"dcgan\" }.");
        else if (string.IsNullOrEmpty(family))
            Fail("model.family", "Required: one of " + known + ".");
        else if (descriptor is null)
            Fail("model.family", $"Unknown family '{family}'. Known: {known}.");
        // Without a known family the other fields are still checked, by the default family's rules and defaults.
        var rules = descriptor ?? ModelFamily.Default;
        var defaults = rules.Defaults;

        int classes = 0;
        if (descriptor is not null && dataset is not null && !errors.ContainsKey("dataset"))
        {
            if (descriptor.Conditional)
                classes = uploaded is not null ? DatasetMapping.ClassCount(uploaded) : datasets.ClassCount(dataset);
            descriptor.CheckDataset(dataset, uploaded?.Kind ?? datasets.Kind(dataset), classes, Fail);
        }
        var sizes = rules.ImageSizes;
        int imageSize = request.Model?.ImageSize ?? sizes[0];
        if (!sizes.Contains(imageSize))
            Fail(
                "model.imageSize",
                $"Size {imageSize} is not supported by {family ?? "this family"}; use {string.Join(", ", sizes)}."
            );
        int channels = request.Model?.Channels ?? defaults.Channels;
        if (!rules.ChannelCounts.Contains(channels))
            Fail("model.channels", "Use 1 (grey) or 3 (RGB).");
        int latent = request.Model?.LatentSize ?? defaults.LatentSize;
        if (latent is < 1 or > MaxLatentSize)
            Fail("model.latentSize", $"Must be between 1 and {MaxLatentSize}.");

        var training = request.Training;
        int steps = training?.Steps ?? 1000;
        if (steps is < 1 or > MaxSteps)
            Fail("training.steps", $"Must be between 1 and {MaxSteps}.");
        int batch = training?.BatchSize ?? defaults.BatchSize;
        if (batch is < 1 or > MaxBatchSize)
            Fail("training.batchSize", $"Must be between 1 and {MaxBatchSize}.");
        else if (
            dataset is not null
            && (uploaded?.ItemCount ?? datasets.ItemCount(dataset)) is int items
            && items < batch
        )
            Fail("training.batchSize", $"Dataset '{dataset}' has {items} items, fewer than one batch of {batch}.");
        double? lr = training?.LearningRate is null ? null : Rate(training.LearningRate, 0, "training.learningRate");
        double glr = Rate(
            training?.GeneratorLearningRate,
            lr ?? defaults.GeneratorLearningRate,
            "training.generatorLearningRate"
        );
        double dlr = Rate(
            training?.DiscriminatorLearningRate,
            lr ?? defaults.DiscriminatorLearningRate,
            "training.discriminatorLearningRate"
        );
        double beta1 = training?.Beta1 ?? defaults.Beta1;
        if (!double.IsFinite(beta1) || beta1 is < 0 or >= 1)
            Fail("training.beta1", "Must be a finite number in [0, 1).");
        double beta2 = training?.Beta2 ?? defaults.Beta2;
        if (!double.IsFinite(beta2) || beta2 is < 0 or >= 1)
            Fail("training.beta2", "Must be a finite number in [0, 1).");
        var loss = training?.Loss?.Trim().ToLowerInvariant() ?? defaults.Loss;
        if (!AdversarialLosses.Names.Contains(loss))
            Fail("training.loss", $"Unknown loss '{loss}'. Known: {string.Join(", ", AdversarialLosses.Names)}.");
        bool wasserstein = loss == AdversarialLosses.Wasserstein;
        var normalization = request.Model?.Normalization?.Trim().ToLowerInvariant()
            ?? (wasserstein ? ModelRecipe.NoNorm : ModelRecipe.BatchNorm);
        if (defaults.FixedNormalization is { } fixedNorm)
        {
            if (request.Model?.Normalization is not null)
                Fail(
                    "model.normalization",
                    $"A {family} discriminator always uses {fixedNorm}; leave normalization out."
                );
            normalization = fixedNorm;
        }
        else if (!ModelRecipe.Normalizations.Contains(normalization))
            Fail("model.normalization", $"Use {string.Join(", ", ModelRecipe.Normalizations)}.");
        else if (wasserstein && normalization == ModelRecipe.BatchNorm)
            Fail(
                "model.normalization",
                "A WGAN-GP critic must not use batch norm: it couples the per-sample gradients the penalty "
                    + "constrains. Use none or spectral."
            );
        int critic = training?.CriticSteps ?? (wasserstein ? defaults.WassersteinCriticSteps : 1);
        if (critic is < 1 or > 10)
            Fail("training.criticSteps", "Must be between 1 and 10.");
        double penalty = Weight(training?.GradientPenalty, wasserstein ? 10 : 0, "training.gradientPenalty");
        double r1 = Weight(training?.R1, defaults.R1, "training.r1");
        int r1Every = training?.R1Every ?? defaults.R1Every;
        if (r1Every is < 1 or > 64)
            Fail("training.r1Every", "Must be between 1 (every D update) and 64.");
        double l1 = Weight(training?.L1, 100, "training.l1");
        double ema = training?.Ema ?? defaults.Ema;
        if (!double.IsFinite(ema) || ema is < 0 or >= 1)
            Fail("training.ema", "Must be 0 (off) or a decay below 1, such as 0.999.");
        var policies = (training?.Augment ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.ToLowerInvariant())
            .Distinct()
            .ToList();
        if (policies.Except(DiffAugment.Policies).FirstOrDefault() is { } unknownPolicy)
            Fail(
                "training.augment",
                $"Unknown policy '{unknownPolicy}'; use {string.Join(", ", DiffAugment.Policies)}, comma-separated."
            );

        // A seed is always recorded, so every run can be reproduced afterwards.
        long seed = request.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        var plan = new TrainingPlan(
            new ModelRecipe(rules.Name, imageSize, channels, latent, classes, normalization),
            new OptimizerRecipe(glr, dlr, beta1, beta2),
            steps,
            batch,
            loss,
            seed
        )
        {
            CriticSteps = critic,
            GradientPenalty = penalty,
            R1 = r1,
            R1Every = r1Every,
            EmaDecay = ema,
            Augment = string.Join(",", policies),
            L1 = l1,
            HoldOut = rules.Translates,
        };
        // The fields only some families read are judged once the family is known; an unknown one is refused above.
        if (descriptor is not null)
            plan = descriptor.ApplyFields(
                plan,
                new FamilyFields(
                    request.Model?.Width,
                    request.Model?.AttentionResolution,
                    request.Model?.MappingLayers,
                    request.Model?.StyleMixing,
                    training?.OrthogonalRegularization,
                    training?.ImagesPerPhase
                ),
                Fail
            );

        // Sized only once every field is known good: the estimate builds small copies of the networks.
        if (descriptor is not null && errors.Count == 0)
            CheckpointBudget.Check(plan, descriptor, request.Model, options.Value.MaxCheckpointBytes, Fail);

        int checkpointEvery = request.CheckpointEvery ?? Math.Max(1, steps / 10);
        int maxCheckpoints = options.Value.MaxCheckpointsPerJob;
        var kept = Retention.CheckpointRetention.Plan(request.Checkpoints, retention.Value, maxCheckpoints, Fail);
        if (checkpointEvery < 1)
            Fail("checkpointEvery", "Must be at least 1 step.");
        // Each checkpoint is a whole bundle stored in PostgreSQL: the count a job may keep is bounded up front (by
        // checkpoints.keep, plus the best and pinned ones, when retention is on).
        else if (kept is null && steps / checkpointEvery > maxCheckpoints)
            Fail(
                "checkpointEvery",
                $"{steps} steps with a checkpoint every {checkpointEvery} would write "
                    + $"{steps / checkpointEvery} checkpoints; at most {maxCheckpoints} are allowed "
                    + $"(Gan:MaxCheckpointsPerJob): use at least {(steps + maxCheckpoints - 1) / maxCheckpoints}."
            );
        var evaluation = Evaluations.EvaluationRules.Apply(
            request.Evaluation,
            training?.EarlyStopping,
            plan,
            Math.Min(checkpointEvery, steps),
            evaluationLimits.Value,
            Fail
        );
        var device = request.Device?.Trim().ToLowerInvariant() ?? "auto";
        if (!Devices.Contains(device))
            Fail("device", "Use auto, cpu or cuda.");
        var name = request.Name?.Trim();
        if (name is { Length: > 200 })
            Fail("name", "At most 200 characters.");
        else if (name is not null && !Hosting.InputRules.IsPlainText(name))
            Fail("name", Hosting.InputRules.PlainTextRule);

        if (errors.Count > 0)
            return (null, errors);
        name = string.IsNullOrEmpty(name) ? $"{family}-{dataset}-{imageSize}x{imageSize}x{channels}" : name;
        var spec = new JobSpec(
            name,
            dataset!,
            plan,
            Math.Min(checkpointEvery, steps),
            device,
            evaluation,
            Checkpoints: kept
        );
        return (spec, errors);

        // The directories searched are this server's business: the log has them, the caller learns what is installed.
        void NotInstalled(string name)
        {
            logger.LogInformation(
                "Dataset {Dataset} was requested but is not in {Directories}.",
                name,
                string.Join(", ", datasets.Directories)
            );
            var installed = datasets.Names.Where(datasets.IsAvailable).ToList();
            Fail(
                "dataset",
                $"Dataset '{name}' is not installed on this server. Installed: "
                    + (installed.Count == 0 ? "none" : string.Join(", ", installed))
                    + "."
            );
        }

        double Weight(double? value, double fallback, string field)
        {
            if (value is null)
                return fallback;
            if (!double.IsFinite(value.Value) || value < 0 || value > 1000)
                Fail(field, "Must be a finite number from 0 (off) to 1000.");
            return value.Value;
        }

        double Rate(double? value, double fallback, string field)
        {
            if (value is null)
                return fallback;
            if (!double.IsFinite(value.Value) || value <= 0 || value > 1)
                Fail(field, "Must be a finite number in (0, 1].");
            return value.Value;
        }
    }
}
