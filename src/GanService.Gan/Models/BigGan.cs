using GanService.Gan.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// Batch norm whose scale and shift are predicted from a condition vector (class embedding plus a latent chunk).
/// </summary>
public sealed class ConditionalBatchNorm : Module<Tensor, Tensor, Tensor>
{
    private readonly BatchNorm2d norm;
    private readonly SpectralLinear gain,
        shift;

    public ConditionalBatchNorm(long channels, long conditionSize)
        : base("conditional_batch_norm")
    {
        norm = BatchNorm2d(channels, affine: false);
        gain = new SpectralLinear(conditionSize, channels);
        shift = new SpectralLinear(conditionSize, channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor condition) =>
        norm.call(x) * (1 + gain.call(condition)).unsqueeze(-1).unsqueeze(-1)
        + shift.call(condition).unsqueeze(-1).unsqueeze(-1);
}

/// <summary>
/// Self-attention (SAGAN): every position attends to every other through 1x1 spectrally normalised query, key and
/// value maps; the result is added back scaled by a learned gamma that starts at 0, so the block begins as identity.
/// </summary>
public sealed class SelfAttention : Module<Tensor, Tensor>
{
    private readonly SpectralConv2d query,
        key,
        value,
        output;
    private readonly Parameter gamma;

    public SelfAttention(long channels)
        : base("self_attention")
    {
        long inner = Math.Max(1, channels / 8);
        query = new SpectralConv2d(channels, inner, 1);
        key = new SpectralConv2d(channels, inner, 1);
        value = new SpectralConv2d(channels, Math.Max(1, channels / 2), 1);
        output = new SpectralConv2d(Math.Max(1, channels / 2), channels, 1);
        gamma = Parameter(zeros(1));
        RegisterComponents();
    }

    public Tensor Gamma => gamma;

    public override Tensor forward(Tensor x)
    {
        long n = x.shape[0],
            h = x.shape[2],
            w = x.shape[3];
        var q = query.call(x).flatten(2).transpose(1, 2); // [N, HW, C/8]
        var k = key.call(x).flatten(2); // [N, C/8, HW]
        var attention = q.bmm(k).softmax(-1); // [N, HW, HW]
        var v = value.call(x).flatten(2); // [N, C/2, HW]
        var attended = v.bmm(attention.transpose(1, 2)).reshape(n, -1, h, w);
        return x + gamma * output.call(attended);
    }
}

/// <summary>
/// BigGAN's residual up block: CBN, ReLU, 2x upsample, 3x3 conv, CBN, ReLU, 3x3 conv; shortcut upsample + 1x1 conv.
/// </summary>
public sealed class GeneratorBlock : Module<Tensor, Tensor, Tensor>
{
    private readonly ConditionalBatchNorm norm1,
        norm2;
    private readonly SpectralConv2d conv1,
        conv2,
        shortcut;

    public GeneratorBlock(long inChannels, long outChannels, long conditionSize)
        : base("biggan_generator_block")
    {
        norm1 = new ConditionalBatchNorm(inChannels, conditionSize);
        norm2 = new ConditionalBatchNorm(outChannels, conditionSize);
        conv1 = new SpectralConv2d(inChannels, outChannels, 3, padding: 1);
        conv2 = new SpectralConv2d(outChannels, outChannels, 3, padding: 1);
        shortcut = new SpectralConv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor condition)
    {
        var h = Up(functional.relu(norm1.call(x, condition)));
        h = conv2.call(functional.relu(norm2.call(conv1.call(h), condition)));
        return h + shortcut.call(Up(x));
    }

    private static Tensor Up(Tensor x) =>
        functional.interpolate(x, scale_factor: [2, 2], mode: InterpolationMode.Nearest);
}

/// <summary>
/// BigGAN generator (Brock et al. 2019) at a small size: z is split into one chunk per block plus one for the
/// 4x4 input ("hierarchical latent"); each block's conditional batch norms read the shared class embedding joined
/// to its chunk. Spectral norm on every layer, self-attention after the block that reaches
/// <see cref="ModelRecipe.AttentionResolution"/>, tanh output.
/// </summary>
public sealed class BigGanGenerator : Module<Tensor, Tensor, Tensor>
{
    public const int EmbeddingSize = 32;
    private readonly Embedding shared;
    private readonly SpectralLinear input;
    private readonly ModuleList<GeneratorBlock> blocks = new();
    private readonly ModuleList<Module<Tensor, Tensor>> attention = new();
    private readonly BatchNorm2d outputNorm;
    private readonly SpectralConv2d outputConv;
    private readonly long[] chunks;
    private readonly long baseChannels;

    public BigGanGenerator(ModelRecipe recipe)
        : base("biggan_generator")
    {
        var resolutions = Widths.Resolutions(recipe.ImageSize);
        int blockCount = resolutions.Count - 1;
        chunks = Chunks(recipe.LatentSize, blockCount + 1);
        shared = Embedding(recipe.Classes, EmbeddingSize);
        baseChannels = Widths.At(4, recipe.Width);
        input = new SpectralLinear(chunks[0], baseChannels * 16);
        for (int i = 1; i < resolutions.Count; i++)
        {
            long from = Widths.At(resolutions[i - 1], recipe.Width),
                to = Widths.At(resolutions[i], recipe.Width);
            blocks.append(new GeneratorBlock(from, to, EmbeddingSize + chunks[i]));
            attention.append(resolutions[i] == recipe.AttentionResolution ? new SelfAttention(to) : Identity());
        }
        long last = Widths.At(recipe.ImageSize, recipe.Width);
        outputNorm = BatchNorm2d(last);
        outputConv = new SpectralConv2d(last, recipe.Channels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Splits n latent entries into k chunks as evenly as possible, larger ones first.</summary>
    public static long[] Chunks(int n, int k) =>
        Enumerable.Range(0, k).Select(i => (long)(n / k + (i < n % k ? 1 : 0))).ToArray();

    public override Tensor forward(Tensor z, Tensor labels)
    {
        var parts = z.split(chunks, 1);
        var embedded = shared.call(labels);
        var x = input.call(parts[0]).reshape(-1, baseChannels, 4, 4);
        for (int i = 0; i < blocks.Count; i++)
            x = attention[i].call(blocks[i].call(x, cat([embedded, parts[i + 1]], 1)));
        return outputConv.call(functional.relu(outputNorm.call(x))).tanh();
    }
}

/// <summary>
/// BigGAN's residual down block: (ReLU), 3x3 conv, ReLU, 3x3 conv, 2x average pool; shortcut 1x1 conv + pool.
/// </summary>
public sealed class DiscriminatorBlock : Module<Tensor, Tensor>
{
    private readonly SpectralConv2d conv1,
        conv2,
        shortcut;
    private readonly bool preactivate;

    public DiscriminatorBlock(long inChannels, long outChannels, bool preactivate)
        : base("biggan_discriminator_block")
    {
        conv1 = new SpectralConv2d(inChannels, outChannels, 3, padding: 1);
        conv2 = new SpectralConv2d(outChannels, outChannels, 3, padding: 1);
        shortcut = new SpectralConv2d(inChannels, outChannels, 1);
        this.preactivate = preactivate;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = conv2.call(functional.relu(conv1.call(preactivate ? functional.relu(x) : x)));
        return functional.avg_pool2d(h, 2) + functional.avg_pool2d(shortcut.call(x), 2);
    }
}

/// <summary>
/// BigGAN discriminator: residual down blocks to 4x4 (self-attention at the same resolution as the generator's),
/// ReLU, global sum pooling to features h, then logit = w.h + b + embed(y).h (projection).
/// </summary>
public sealed class BigGanDiscriminator : Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly SpectralLinear classifier;
    private readonly Embedding projection;

    public BigGanDiscriminator(ModelRecipe recipe)
        : base("biggan_discriminator")
    {
        var resolutions = Widths.Resolutions(recipe.ImageSize);
        body = Sequential();
        long channels = recipe.Channels;
        for (int i = resolutions.Count - 1; i > 0; i--)
        {
            long to = Widths.At(resolutions[i - 1], recipe.Width);
            body.append(new DiscriminatorBlock(channels, to, preactivate: i != resolutions.Count - 1));
            if (resolutions[i - 1] == recipe.AttentionResolution)
                body.append(new SelfAttention(to));
            channels = to;
        }
        classifier = new SpectralLinear(channels, 1);
        projection = Embedding(recipe.Classes, channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images, Tensor labels)
    {
        var h = functional.relu(body.call(images)).sum([2, 3]);
        return classifier.call(h).squeeze(1) + (projection.call(labels) * h).sum(1);
    }
}
