using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Gan.Imaging;

/// <summary>Image tensors in [-1, 1] as an animated GIF that loops forever, one frame per image.</summary>
public static class Animation
{
    public static byte[] EncodeGif(Tensor frames, int frameDelayMilliseconds = 120)
    {
        if (frames.ndim != 4 || frames.shape[1] is not (1 or 3))
            throw new ArgumentException("Expected frames [N, 1 or 3, H, W].", nameof(frames));
        int count = (int)frames.shape[0],
            height = (int)frames.shape[2],
            width = (int)frames.shape[3];
        using var rgb = frames.shape[1] == 1 ? frames.expand(-1, 3, -1, -1) : frames.alias();
        var pixels = ImageGrid.ToBytes(rgb);
        int frameBytes = width * height * 3;
        using var animation = new Image<Rgb24>(width, height);
        animation.Metadata.GetGifMetadata().RepeatCount = 0;
        for (int i = 0; i < count; i++)
        {
            using var frame = Image.LoadPixelData<Rgb24>(pixels.AsSpan(i * frameBytes, frameBytes), width, height);
            // GIF counts in 1/100 s
            frame.Frames.RootFrame.Metadata.GetGifMetadata().FrameDelay = frameDelayMilliseconds / 10;
            animation.Frames.AddFrame(frame.Frames.RootFrame);
        }
        animation.Frames.RemoveFrame(0); // the blank frame the image was created with
        using var output = new MemoryStream();
        animation.SaveAsGif(output);
        return output.ToArray();
    }
}
