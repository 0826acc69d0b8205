using GanService.Gan.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Imaging;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Sampling;

/// <summary>
/// A generator loaded from a checkpoint, in eval mode, for sampling. Latents come from a generator seeded per
/// request, so the same seed, count and controls always give the same images. A progressive generator renders at
/// the stage its checkpoint was taken at, enlarged to the target size.
/// </summary>
public sealed partial class GeneratorSampler : ILoadedNetwork
{
    private readonly nn.Module generator;
    private readonly Device device;

    private GeneratorSampler(TrainingPlan plan, long step, nn.Module generator, Device device)
    {
        Plan = plan;
        Step = step;
        this.generator = generator;
        this.device = device;
    }

    /// <summary>
    /// Images per forward pass: bounds a request's live activations whatever its count (docs/reliability.md#budgets).
    /// Below it results are those of one pass.
    /// </summary>
    public const int RenderChunk = 16;

    /// <summary>
    /// Redraw rounds for BigGAN's threshold. Ordinary thresholds finish long before (an entry survives a round
    /// beyond 0.5 with odds 0.62, so 100 rounds leave 1e-21), keeping earlier seeded results; tiny ones end.
    /// </summary>
    public const int MaxRedraws = 100;

    public TrainingPlan Plan { get; }
    public long Step { get; }

    /// <summary>What the loaded generator holds in memory.</summary>
    public long Bytes => bytes ??= NetworkBytes.Of(generator);

    private long? bytes;

    public static GeneratorSampler Load(byte[] bundle, Device device, string? expectedSha256 = null)
    {
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        return Load(reader, device);
    }

    /// <summary>Loads from an opened bundle, reading only the generator entry it samples from.</summary>
    public static GeneratorSampler Load(CheckpointReader reader, Device device)
    {
        var generator = GanNetworks.Generator(reader.Manifest.Plan.Model);
        try
        {
            // The moving average, where the run kept one, samples better than the raw weights.
            var entry = reader.Manifest.Plan.EmaDecay > 0 ? CheckpointEntries.Ema : CheckpointEntries.Generator;
            generator.load(reader.Entry(entry));
            generator.to(device);
            generator.eval();
            return new GeneratorSampler(reader.Manifest.Plan, reader.Manifest.Step, generator, device);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An untrained generator for a recipe, initialised from a seed: the baseline to compare against.
    /// </summary>
    public static GeneratorSampler Untrained(TrainingPlan plan, Device device)
    {
        var generator = GanNetworks.Generator(plan.Model);
        using var rng = new torch.Generator((ulong)plan.Seed);
        Initialization.Apply(generator, rng);
        generator.to(device);
        generator.eval();
        return new GeneratorSampler(plan, 0, generator, device);
    }

    public bool Conditional => Plan.Model.Conditional;

    /// <summary>The loaded network, for inspection (a progressive one's stage, parameter counts).</summary>
    public nn.Module Network => generator;

    /// <summary>
    /// <paramref name="count"/> images [N, C, H, W] in [-1, 1] on the CPU for one seed. A conditional generator
    /// draws image i of class labels[i % labels.Length], or of class i % classes when no labels are given. The
    /// batch is rendered <see cref="RenderChunk"/> images at a time, each chunk under its own dispose scope, and
    /// <paramref name="ct"/> is observed between chunks.
    /// </summary>
    public Tensor Sample(
        long seed,
        int count,
        IReadOnlyList<int>? labels = null,
        SamplingControls? controls = null,
        CancellationToken ct = default
    )
    {
        controls = Checked(controls, labels);
        using var rng = new torch.Generator((ulong)seed);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var latents = Latents(rng, count, controls.Truncation);
        var classes = Classes(count, labels);
        if (generator is StyleGenerator style)
        {
            Tensor? mixLatents = null;
            if (controls.MixSeed is { } mix)
            {
                using var mixRng = new torch.Generator((ulong)mix);
                mixLatents = Latents(mixRng, count, null);
            }
            int from = controls.MixFrom ?? SamplingControls.DefaultMixFrom(Plan.Model);
            var noise = controls.Noise ?? NoiseMode.Random;
            return InChunks(count, ct, part =>
                {
                    var ws = Styles(style, latents[part], controls.Truncation);
                    if (mixLatents is not null)
                        ws = cat([ws[.., ..from], Styles(style, mixLatents[part], controls.Truncation)[.., from..]], 1);
                    return style.Synthesize(ws, noise, rng);
                })
                .MoveToOuterDisposeScope();
        }
        // Eval mode under no_grad only reads the weights, so concurrent renders share one generator.
        return InChunks(count, ct, part => GanNetworks.Call(generator, latents[part], classes?[part]))
            .MoveToOuterDisposeScope();
    }

    /// <summary>A PNG grid of samples; with one image and no padding, just that image.</summary>
    public byte[] SamplePng(
        long seed,
        int count,
        int columns,
        int padding = ImageGrid.DefaultPadding,
        IReadOnlyList<int>? labels = null,
        SamplingControls? controls = null,
        CancellationToken ct = default
    )
    {
        using var images = Sample(seed, count, labels, controls, ct);
        return ImageGrid.EncodePng(images, columns, padding);
    }

    private SamplingControls Checked(SamplingControls? controls, IReadOnlyList<int>? labels)
    {
        if (labels is { Count: > 0 } && !Conditional)
            throw new ArgumentException("This generator is not class-conditional.", nameof(labels));
        controls ??= SamplingControls.None;
        if (controls.Check(Plan.Model).FirstOrDefault() is { Key: not null } problem)
            throw new ArgumentException($"{problem.Key}: {problem.Value}", nameof(controls));
        return controls;
    }

    /// <summary>
    /// z ~ N(0, 1); with a BigGAN threshold, entries beyond it are redrawn, at most <see cref="MaxRedraws"/> times,
    /// and any still beyond are then clipped to it. Each round's temporaries are freed as it ends.
    /// </summary>
    private Tensor Latents(torch.Generator rng, int count, double? truncation)
    {
        var z = randn([count, Plan.Model.LatentSize], generator: rng);
        if (ModelFamily.Of(Plan.Model).Truncation == TruncationTrick.RedrawLatents && truncation is { } threshold)
        {
            for (int round = 0; round < MaxRedraws; round++)
            {
                using var redraw = NewDisposeScope();
                var outside = z.abs().gt(threshold);
                if (!outside.any().item<bool>())
                    break;
                z.copy_(where(outside, randn(z.shape, generator: rng), z));
            }
            z.clamp_(-threshold, threshold);
        }
        return z.to(device);
    }

    /// <summary>
    /// Renders images [start, end) a chunk at a time, each under its own dispose scope so only one chunk's
    /// activations are alive, and stops between chunks once <paramref name="ct"/> is cancelled.
    /// </summary>
    private Tensor InChunks(int count, CancellationToken ct, Func<Range, Tensor> render)
    {
        var chunks = new List<Tensor>();
        for (int start = 0; start < count; start += RenderChunk)
        {
            ct.ThrowIfCancellationRequested();
            using var chunk = NewDisposeScope();
            chunks.Add(Display(render(start..Math.Min(count, start + RenderChunk))).cpu().MoveToOuterDisposeScope());
        }
        return chunks.Count == 1 ? chunks[0] : cat(chunks, 0);
    }

    /// <summary>w for every layer, pulled toward the average w by psi where truncation is asked for.</summary>
    private static Tensor Styles(StyleGenerator style, Tensor z, double? psi)
    {
        var w = style.Map(z);
        if (psi is { } p)
            w = style.AverageW.lerp(w, p);
        return style.Broadcast(w);
    }

    private Tensor? Classes(int count, IReadOnlyList<int>? labels) =>
        !Conditional ? null
        : labels is { Count: > 0 }
            ? tensor(Enumerable.Range(0, count).Select(i => (long)labels[i % labels.Count]).ToArray()).to(device)
        : GanTrainer.PreviewLabels(count, Plan.Model.Classes).to(device);

    // Held, not converted per call: see ImageGrid on Scalars the GC may finalize mid-call.
    private static readonly Scalar Low = (-1).ToScalar(),
        High = 1.ToScalar();

    /// <summary>
    /// At the target size and in [-1, 1]: ProGAN and StyleGAN have linear outputs that may overshoot.
    /// </summary>
    private Tensor Display(Tensor images) =>
        ProgressiveSchedule.ForDisplay(images, Plan.Model.ImageSize).clamp(Low, High);

    public void Dispose() => generator.Dispose();
}
