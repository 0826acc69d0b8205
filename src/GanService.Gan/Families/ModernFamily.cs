namespace GanService.Gan.Families;

/// <summary>
/// What BigGAN, ProGAN and StyleGAN share: powers of two from 32 (a CPU trains 32 in minutes) to 256 (for GPUs),
/// a width read from the request, Adam with beta1 0, batch 32 and a 64-long latent.
/// </summary>
public abstract class ModernFamily : ModelFamily
{
    private static readonly IReadOnlyList<int> Sizes = [32, 64, 128, 256];

    protected static readonly FamilyDefaults ModernDefaults = FamilyDefaults.Dcgan with
    {
        Beta1 = 0,
        BatchSize = 32,
        LatentSize = 64,
    };

    public override IReadOnlyList<int> ImageSizes => Sizes;
    public override IReadOnlyCollection<string> Fields => [FamilyFields.WidthField];
}
