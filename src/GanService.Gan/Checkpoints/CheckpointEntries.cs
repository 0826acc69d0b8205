namespace GanService.Gan.Checkpoints;

/// <summary>
/// The names of a bundle's entries. Stored jobs hold these names, so they never change; CheckpointCompatibilityTests
/// keeps a snapshot of every family's.
/// </summary>
public static class CheckpointEntries
{
    public const string Manifest = "manifest.json";
    public const string Generator = "generator.bin",
        Ema = "generator-ema.bin",
        Discriminator = "discriminator.bin";

    /// <summary>CycleGAN's second pair; G_AB and D_A are stored as the Generator and Discriminator.</summary>
    public const string GeneratorBa = "generator-ba.bin",
        DiscriminatorB = "discriminator-b.bin";

    public const string GeneratorOptimizer = "optimizer-generator.bin";
    public const string DiscriminatorOptimizer = "optimizer-discriminator.bin";
    public const string Rng = "rng.bin",
        PreviewLatents = "preview-latents.bin",
        ImagePools = "image-pools.bin";

    /// <summary>The entries that hold network weights: what a run started from another one's weights takes.</summary>
    public static readonly IReadOnlySet<string> Networks = new HashSet<string>
    {
        Generator,
        Ema,
        Discriminator,
        GeneratorBa,
        DiscriminatorB,
    };
}
