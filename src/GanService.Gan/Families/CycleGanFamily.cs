using GanService.Gan.Data;
using GanService.Gan.Losses;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>
/// CycleGAN: two ResNet generators, A to B and B to A, trained on two unaligned domains with least squares.
/// </summary>
public sealed class CycleGanFamily : TranslationFamily
{
    private static readonly FamilyDefaults CycleGanDefaults = TranslationDefaults with
    {
        Loss = AdversarialLosses.LeastSquares,
    };

    public override string Name => ModelRecipe.CycleGan;
    public override FamilyDefaults Defaults => CycleGanDefaults;
    public override bool TranslatesBothWays => true;

    /// <remarks>A paired dataset serves as two domains too; its pairing is not used.</remarks>
    public override void CheckDataset(string dataset, DatasetKind kind, int classes, Action<string, string> fail)
    {
        if (kind is not (DatasetKind.Unpaired or DatasetKind.Paired))
            fail(
                "dataset",
                "cyclegan trains on two domains (upload trainA/ and trainB/ folders); "
                    + $"'{dataset}' is {Describe(kind)}."
            );
    }

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new ResnetGenerator(recipe);

    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) =>
        new PatchDiscriminator(recipe.Channels);

    public override Trainer CreateTrainer(TrainingPlan plan, TrainingData data, Device device) =>
        CycleGanTrainer.Create(plan, data, device);

    public override Trainer ResumeTrainer(byte[] bundle, TrainingData data, Device device) =>
        CycleGanTrainer.Resume(bundle, data, device);
}
