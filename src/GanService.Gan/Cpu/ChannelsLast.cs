using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// Channels-last (NHWC) activations, set through strides alone: TorchSharp 0.107 has no memory-format API, but
/// libtorch chooses its channels-last convolution and batch-norm kernels from a tensor's strides and keeps that
/// layout through the layers that follow, which are much faster that way for the DCGAN's batch norm and 3-channel
/// layers. Values are unchanged: only the order in memory differs.
/// </summary>
public static class ChannelsLast
{
    /// <summary>The same images laid out channels-last; free when they already are.</summary>
    public static Tensor Of(Tensor images) =>
        images.dim() != 4 ? images : images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>
    /// A fresh, uninitialised channels-last tensor. The strides are set outright: with one channel, NCHW and NHWC
    /// strides can both describe the same memory, and libtorch would take such a tensor as NCHW.
    /// </summary>
    public static Tensor Empty(long batch, long channels, long height, long width) =>
        empty_strided([batch, channels, height, width], [height * width * channels, 1, width * channels, channels]);

    /// <summary>Back to the default (NCHW) layout, for callers that read the memory directly.</summary>
    public static Tensor Undo(Tensor images) => images.contiguous();
}
