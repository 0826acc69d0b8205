using GanService.Gan.Training;

namespace GanService.Gan.Families;

/// <summary>What pix2pix and CycleGAN share: image-to-image at 64 to 256 pixels, RGB and batch 4 by default.</summary>
public abstract class TranslationFamily : ModelFamily
{
    private static readonly IReadOnlyList<int> Sizes = [64, 128, 256];

    protected static readonly FamilyDefaults TranslationDefaults = FamilyDefaults.Dcgan with
    {
        Channels = 3,
        BatchSize = 4,
    };

    public override IReadOnlyList<int> ImageSizes => Sizes;
    public override FamilyDefaults Defaults => TranslationDefaults;
    public override bool Translates => true;
}
