using GanService.Gan.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// The course's class-conditional generator: the label is embedded (50 values), projected to one b x b map and
/// stacked onto the projected latent before the DCGAN upsampling.
/// </summary>
public sealed class ConditionalDcganGenerator : Module<Tensor, Tensor, Tensor>
{
    public const int EmbeddingSize = 50;
    private readonly DcganGenerator body;
    private readonly Embedding embedding;
    private readonly Linear labelMap;
    private readonly long baseSize;

    public ConditionalDcganGenerator(ModelRecipe recipe) : base("conditional_dcgan_generator")
    {
        baseSize = Dcgan.Geometry(recipe.ImageSize).BaseSize;
        body = new DcganGenerator(recipe, extraChannels: 1);
        embedding = Embedding(recipe.Classes, EmbeddingSize);
        labelMap = Linear(EmbeddingSize, baseSize * baseSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latent, Tensor labels)
    {
        var map = labelMap.call(embedding.call(labels)).view(-1, 1, baseSize, baseSize);
        return body.Decode(cat([body.Project(latent), map], 1));
    }
}

/// <summary>
/// The course's class-conditional discriminator: the label is embedded, projected to one H x W map and stacked
/// onto the image as an extra input channel.
/// </summary>
public sealed class ConditionalDcganDiscriminator : Module<Tensor, Tensor, Tensor>
{
    private readonly DcganDiscriminator body;
    private readonly Embedding embedding;
    private readonly Linear labelMap;
    private readonly long size;

    public ConditionalDcganDiscriminator(ModelRecipe recipe) : base("conditional_dcgan_discriminator")
    {
        size = recipe.ImageSize;
        body = new DcganDiscriminator(recipe, extraChannels: 1);
        embedding = Embedding(recipe.Classes, ConditionalDcganGenerator.EmbeddingSize);
        labelMap = Linear(ConditionalDcganGenerator.EmbeddingSize, size * size);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images, Tensor labels)
    {
        var map = labelMap.call(embedding.call(labels)).view(-1, 1, size, size);
        return body.call(cat([images, map], 1));
    }
}
