using GanService.Gan.Data;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>pix2pix: a U-Net translating A to B, trained on aligned pairs against a PatchGAN that sees both.</summary>
public sealed class Pix2PixFamily : TranslationFamily
{
    public override string Name => ModelRecipe.Pix2Pix;

    public override void CheckDataset(string dataset, DatasetKind kind, int classes, Action<string, string> fail)
    {
        if (kind != DatasetKind.Paired)
            fail(
                "dataset",
                "pix2pix trains on a paired dataset (upload A/ and B/ folders, or layout=sidebyside); "
                    + $"'{dataset}' is {Describe(kind)}."
            );
    }

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new UNetGenerator(recipe);

    // The discriminator judges the input and the output stacked as channels.
    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) =>
        new PatchDiscriminator(2 * recipe.Channels);

    public override Trainer CreateTrainer(TrainingPlan plan, TrainingData data, Device device) =>
        Pix2PixTrainer.Create(plan, data, device);

    public override Trainer ResumeTrainer(byte[] bundle, TrainingData data, Device device) =>
        Pix2PixTrainer.Resume(bundle, data, device);
}
