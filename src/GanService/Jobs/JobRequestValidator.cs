using System.Security.Cryptography;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Gan.Losses;
using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>
/// Checks a job request field by field and fills in the defaults. Errors are keyed by the JSON path of the field
/// (e.g. <c>model.imageSize</c>) so a caller sees exactly what to fix.
/// </summary>
public sealed class JobRequestValidator(DatasetCatalog datasets)
{
    public const int MaxSteps = 10_000_000, MaxBatchSize = 4096, MaxLatentSize = 4096;
    private static readonly string[] Devices = ["auto", "cpu", "cuda"];

    /// <param name="request">The request as sent.</param>
    /// <param name="uploaded">The uploaded dataset the request names by id, looked up by the caller; null otherwise.</param>
    public (JobSpec? Spec, Dictionary<string, string[]> Errors) Validate(CreateJobRequest? request, Dataset? uploaded = null)
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
        if (string.IsNullOrEmpty(dataset)) Fail("dataset", "Required: a dataset name such as 'synthetic', 'mnist', 'fashion-mnist' or 'cifar10', or an uploaded dataset's id.");
        else if (byId && uploaded is null) Fail("dataset", $"There is no uploaded dataset with id {datasetId}.");
        else if (byId) dataset = datasetId.ToString();
        else if (!datasets.IsKnown(dataset)) Fail("dataset", $"Unknown dataset '{dataset}'. Known: {string.Join(", ", datasets.Names)}.");
        else if (!datasets.IsAvailable(dataset)) Fail("dataset", $"Dataset '{dataset}' is not installed on this server (searched: {string.Join(", ", datasets.Directories)}).");

        var family = request.Model?.Family?.Trim().ToLowerInvariant();
        if (request.Model is null) Fail("model", "Required: at least { \"family\": \"dcgan\" }.");
        else if (string.IsNullOrEmpty(family)) Fail("model.family", "Required: one of " + string.Join(", ", ModelRecipe.Families) + ".");
        else if (!ModelRecipe.Families.Contains(family)) Fail("model.family", $"Unknown family '{family}'. Known: {string.Join(", ", ModelRecipe.Families)}.");

        bool translation = family is ModelRecipe.Pix2Pix or ModelRecipe.CycleGan;
        if (dataset is not null && !errors.ContainsKey("dataset") && !errors.ContainsKey("model.family"))
        {
            var kind = uploaded?.Kind ?? DatasetKind.Labelled;
            if (family == ModelRecipe.Pix2Pix && kind != DatasetKind.Paired)
                Fail("dataset", $"pix2pix trains on a paired dataset (upload A/ and B/ folders, or layout=sidebyside); '{dataset}' is {kind.ToString().ToLowerInvariant()}.");
            else if (family == ModelRecipe.CycleGan && kind is not (DatasetKind.Unpaired or DatasetKind.Paired))
                Fail("dataset", $"cyclegan trains on two domains (upload trainA/ and trainB/ folders); '{dataset}' is {kind.ToString().ToLowerInvariant()}.");
            else if (!translation && kind is DatasetKind.Paired or DatasetKind.Unpaired)
                Fail("dataset", $"Dataset {dataset} is {kind.ToString().ToLowerInvariant()}; a {family} trains on plain or labelled images.");
        }
        bool modern = ModelRecipe.IsModern(family);
        var sizes = translation ? ModelRecipe.TranslationSizes : modern ? ModelRecipe.ModernSizes : ModelRecipe.ImageSizes;
        int imageSize = request.Model?.ImageSize ?? sizes[0];
        if (!sizes.Contains(imageSize)) Fail("model.imageSize", $"Size {imageSize} is not supported by {family ?? "this family"}; use {string.Join(", ", sizes)}.");
        int channels = request.Model?.Channels ?? (translation ? 3 : 1);
        if (!ModelRecipe.ChannelCounts.Contains(channels)) Fail("model.channels", "Use 1 (grey) or 3 (RGB).");
        int latent = request.Model?.LatentSize ?? FamilyDefaults.LatentSize(family);
        if (latent is < 1 or > MaxLatentSize) Fail("model.latentSize", $"Must be between 1 and {MaxLatentSize}.");

        var training = request.Training;
        int steps = training?.Steps ?? 1000;
        if (steps is < 1 or > MaxSteps) Fail("training.steps", $"Must be between 1 and {MaxSteps}.");
        int batch = training?.BatchSize ?? FamilyDefaults.BatchSize(family);
        if (batch is < 1 or > MaxBatchSize) Fail("training.batchSize", $"Must be between 1 and {MaxBatchSize}.");
        else if (dataset is not null && (uploaded?.ItemCount ?? datasets.ItemCount(dataset)) is int items && items < batch)
            Fail("training.batchSize", $"Dataset '{dataset}' has {items} items, fewer than one batch of {batch}.");
        var (defaultGlr, defaultDlr) = FamilyDefaults.LearningRates(family);
        double? lr = training?.LearningRate is null ? null : Rate(training.LearningRate, 0, "training.learningRate");
        double glr = Rate(training?.GeneratorLearningRate, lr ?? defaultGlr, "training.generatorLearningRate");
        double dlr = Rate(training?.DiscriminatorLearningRate, lr ?? defaultDlr, "training.discriminatorLearningRate");
        double beta1 = training?.Beta1 ?? FamilyDefaults.Beta1(family);
        if (!double.IsFinite(beta1) || beta1 is < 0 or >= 1) Fail("training.beta1", "Must be a finite number in [0, 1).");
        double beta2 = training?.Beta2 ?? FamilyDefaults.Beta2(family);
        if (!double.IsFinite(beta2) || beta2 is < 0 or >= 1) Fail("training.beta2", "Must be a finite number in [0, 1).");
        var loss = training?.Loss?.Trim().ToLowerInvariant() ?? FamilyDefaults.Loss(family);
        if (!AdversarialLosses.Names.Contains(loss)) Fail("training.loss", $"Unknown loss '{loss}'. Known: {string.Join(", ", AdversarialLosses.Names)}.");
        bool wasserstein = loss == AdversarialLosses.Wasserstein;
        var normalization = request.Model?.Normalization?.Trim().ToLowerInvariant() ?? (wasserstein ? ModelRecipe.NoNorm : ModelRecipe.BatchNorm);
        if (FamilyDefaults.FixedNormalization(family) is { } fixedNorm)
        {
            if (request.Model?.Normalization is not null) Fail("model.normalization", $"A {family} discriminator always uses {fixedNorm}; leave normalization out.");
            normalization = fixedNorm;
        }
        else if (!ModelRecipe.Normalizations.Contains(normalization)) Fail("model.normalization", $"Use {string.Join(", ", ModelRecipe.Normalizations)}.");
        else if (wasserstein && normalization == ModelRecipe.BatchNorm)
            Fail("model.normalization", "A WGAN-GP critic must not use batch norm: it couples the per-sample gradients the penalty constrains. Use none or spectral.");
        int critic = training?.CriticSteps ?? FamilyDefaults.CriticSteps(family, wasserstein);
        if (critic is < 1 or > 10) Fail("training.criticSteps", "Must be between 1 and 10.");
        double penalty = Weight(training?.GradientPenalty, wasserstein ? 10 : 0, "training.gradientPenalty");
        double r1 = Weight(training?.R1, FamilyDefaults.R1(family), "training.r1");
        int r1Every = training?.R1Every ?? FamilyDefaults.R1Every(family);
        if (r1Every is < 1 or > 64) Fail("training.r1Every", "Must be between 1 (every D update) and 64.");
        double l1 = Weight(training?.L1, 100, "training.l1");
        double ema = training?.Ema ?? FamilyDefaults.Ema(family);
        if (!double.IsFinite(ema) || ema is < 0 or >= 1) Fail("training.ema", "Must be 0 (off) or a decay below 1, such as 0.999.");
        var policies = (training?.Augment ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.ToLowerInvariant()).Distinct().ToList();
        if (policies.Except(DiffAugment.Policies).FirstOrDefault() is { } unknownPolicy)
            Fail("training.augment", $"Unknown policy '{unknownPolicy}'; use {string.Join(", ", DiffAugment.Policies)}, comma-separated.");
        int classes = 0;
        if (family is ModelRecipe.ConditionalDcgan or ModelRecipe.BigGan && dataset is not null && !errors.ContainsKey("dataset"))
        {
            classes = uploaded is not null ? DatasetMapping.ClassCount(uploaded) : datasets.ClassCount(dataset);
            if (classes < 2) Fail("model.family", $"A {family} is class-conditional and needs a labelled dataset; '{dataset}' has no classes.");
        }
        var extras = ModernFamilyRules.Check(family, imageSize, request.Model, training, Fail);

        int checkpointEvery = request.CheckpointEvery ?? Math.Max(1, steps / 10);
        if (checkpointEvery < 1) Fail("checkpointEvery", "Must be at least 1 step.");
        var device = request.Device?.Trim().ToLowerInvariant() ?? "auto";
        if (!Devices.Contains(device)) Fail("device", "Use auto, cpu or cuda.");
        var name = request.Name?.Trim();
        if (name is { Length: > 200 }) Fail("name", "At most 200 characters.");
        else if (name is not null && !Hosting.InputRules.IsPlainText(name)) Fail("name", Hosting.InputRules.PlainTextRule);

        if (errors.Count > 0) return (null, errors);
        // A seed is always recorded, so every run can be reproduced afterwards.
        long seed = request.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        name = string.IsNullOrEmpty(name) ? $"{family}-{dataset}-{imageSize}x{imageSize}x{channels}" : name;
        var spec = new JobSpec(name, dataset!, extras.Apply(new ModelRecipe(family!, imageSize, channels, latent, classes, normalization)),
            new OptimizerRecipe(glr, dlr, beta1, beta2), loss, steps, batch, Math.Min(checkpointEvery, steps), seed, device)
        {
            CriticSteps = critic, GradientPenalty = penalty, R1 = r1, R1Every = r1Every, EmaDecay = ema, Augment = string.Join(",", policies), L1 = l1,
            OrthogonalRegularization = extras.Orthogonal, ImagesPerPhase = extras.ImagesPerPhase,
        };
        return (spec, errors);

        double Weight(double? value, double fallback, string field)
        {
            if (value is null) return fallback;
            if (!double.IsFinite(value.Value) || value < 0 || value > 1000) Fail(field, "Must be a finite number from 0 (off) to 1000.");
            return value.Value;
        }

        double Rate(double? value, double fallback, string field)
        {
            if (value is null) return fallback;
            if (!double.IsFinite(value.Value) || value <= 0 || value > 1) Fail(field, "Must be a finite number in (0, 1].");
            return value.Value;
        }
    }
}
