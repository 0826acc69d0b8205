using System.Diagnostics;
using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>
/// Builds the real batch of the next step on a background thread while the current step trains, so a step only
/// waits on data when building a batch takes longer than a step. The tensors it returns belong to the caller.
/// </summary>
public sealed class BatchPrefetcher(ImageDataset data, BatchSampler sampler, Device device, long lastStep, bool withLabels = false) : IDisposable
{
    private Task<(Tensor Images, Tensor? Labels)>? pending;
    private long pendingStep = -1;

    /// <summary>How long the last <see cref="Take"/> waited for its batch.</summary>
    public TimeSpan LastWait { get; private set; }

    /// <summary>The batch of <paramref name="step"/> (from the prefetch when it is the expected one), and starts the next.</summary>
    public (Tensor Images, Tensor? Labels) Take(long step)
    {
        var clock = Stopwatch.StartNew();
        var batch = pending is not null && pendingStep == step ? pending.GetAwaiter().GetResult() : Build(step).GetAwaiter().GetResult();
        if (pending is not null && pendingStep != step) Discard();
        LastWait = clock.Elapsed;
        pending = step + 1 < lastStep ? Build(step + 1) : null;
        pendingStep = step + 1;
        return batch;
    }

    private Task<(Tensor, Tensor?)> Build(long step)
    {
        // The sampler is not thread-safe: indices are drawn here, on the training thread.
        var indices = sampler.Indices(step);
        return Task.Run(() => (data.Batch(indices, device), withLabels ? data.LabelBatch(indices, device) : null));
    }

    private void Discard()
    {
        try
        {
            if (pending is null) return;
            var (images, labels) = pending.GetAwaiter().GetResult();
            images.Dispose();
            labels?.Dispose();
        }
        catch (Exception) { /* a failed prefetch nobody will use */ }
        pending = null;
    }

    public void Dispose() => Discard();
}
