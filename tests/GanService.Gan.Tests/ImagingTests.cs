using GanService.Gan.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class ImagingTests
{
    [Fact]
    public void A_grid_has_two_pixel_padding()
    {
        using var decoded = Image.Load<L8>(Grid());
        Assert.Equal((4 * 3 + 5 * 2, 2 * 3 + 3 * 2), (decoded.Width, decoded.Height));
        Assert.Equal(ImageGrid.Size(6, 4, 3), (decoded.Width, decoded.Height));
        Assert.Equal(128, decoded[0, 0].PackedValue); // padding
    }

    [Fact]
    public void A_grid_maps_minus_one_to_black_zero_to_grey_one_to_white()
    {
        using var decoded = Image.Load<L8>(Grid());
        Assert.Equal(0, decoded[2, 2].PackedValue); // first tile
        Assert.Equal(255, decoded[7, 2].PackedValue); // second tile starts at 2 + 3 + 2
        Assert.Equal(128, decoded[2, 7].PackedValue); // a zero image in the second row
    }

    /// <summary>Six 3x3 grey images in four columns: the first all -1, the second all +1, the rest 0.</summary>
    private static byte[] Grid()
    {
        using var images = zeros(6, 1, 3, 3);
        images[0].fill_(-1);
        images[1].fill_(1);
        return ImageGrid.EncodePng(images, columns: 4);
    }

    [Fact]
    public void Rgb_images_keep_their_channels()
    {
        using var images = full(new long[] { 1, 3, 2, 2 }, -1f);
        images[0, 0].fill_(1); // pure red
        using var decoded = Image.Load<Rgb24>(ImageGrid.EncodePng(images, columns: 1));
        Assert.Equal(new Rgb24(255, 0, 0), decoded[2, 2]);
    }

    [Fact]
    public void Encoding_is_deterministic()
    {
        using var images = rand(4, 3, 8, 8).mul(2).sub(1);
        Assert.Equal(ImageGrid.EncodePng(images, 2), ImageGrid.EncodePng(images, 2));
    }
}
