using GanService.Gan.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// The class-conditional generator: the label is embedded (50 values) and joined to the latent, so every layer of
/// the DCGAN generator sees the class.
/// </summary>
public sealed class ConditionalDcganGenerator : Module<Tensor, Tensor, Tensor>
{
    public const int EmbeddingSize = 50;
    private readonly DcganGenerator body;
    private readonly Embedding embedding;

    public ConditionalDcganGenerator(ModelRecipe recipe)
        : base("conditional_dcgan_generator")
    {
        body = new DcganGenerator(recipe with { LatentSize = recipe.LatentSize + EmbeddingSize });
        embedding = Embedding(recipe.Classes, EmbeddingSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latent, Tensor labels) => body.call(cat([latent, embedding.call(labels)], 1));
}

/// <summary>
/// The class-conditional discriminator with a projection (Miyato and Koyama 2018): the DCGAN features h give
/// logit = w.h + b + embed(y).h, so the class enters as an inner product rather than as an input channel; it
/// learns the condition far sooner.
/// </summary>
public sealed class ConditionalDcganDiscriminator : Module<Tensor, Tensor, Tensor>, IGroupedDiscriminator
{
    private readonly DcganDiscriminator body;
    private readonly Embedding projection;

    public ConditionalDcganDiscriminator(ModelRecipe recipe)
        : base("conditional_dcgan_discriminator")
    {
        body = new DcganDiscriminator(recipe);
        projection = Embedding(recipe.Classes, body.FeatureSize);
        RegisterComponents();
    }

    public bool Groupable => body.Groupable;

    public Tensor Call(Tensor images, Tensor? labels, int groups) =>
        Score(
            images,
            labels ?? throw new ArgumentException("The conditional discriminator needs labels.", nameof(labels)),
            groups
        );

    public override Tensor forward(Tensor images, Tensor labels) => Score(images, labels, 1);

    private Tensor Score(Tensor images, Tensor labels, int groups)
    {
        var h = body.Features(images, groups);
        // The class table reordered (classes x features) rather than each image's features.
        return body.Classify(h) + (body.InFeatureOrder(projection.weight!).index_select(0, labels) * h).sum(1);
    }
}
