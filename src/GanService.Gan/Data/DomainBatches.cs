using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>
/// Batches of two-domain data for image-to-image translation. Paired data draws the same indices from both
/// domains, so A_i and B_i stay together; unpaired domains are shuffled independently, each by its own seed.
/// </summary>
public sealed class DomainBatches : IDisposable
{
    private readonly ImageDataset a,
        b;
    private readonly BatchSampler samplerA,
        samplerB;
    private readonly bool paired;

    private readonly bool owned;

    public DomainBatches(StoredDataset stored, long seed, int batchSize)
        : this(
            stored.ToImageDataset("A"),
            stored.ToImageDatasetB("B")
                ?? throw new ArgumentException(
                    $"A {stored.Header.Kind} dataset has one domain, not two.",
                    nameof(stored)
                ),
            stored.Header.Kind == DatasetKind.Paired,
            seed,
            batchSize
        ) => owned = true;

    /// <summary>
    /// Over two datasets the caller keeps owning; batches of A come from its first <paramref name="trainingA"/> items
    /// (all by default), the rest being held out.
    /// </summary>
    public DomainBatches(ImageDataset a, ImageDataset b, bool paired, long seed, int batchSize, int? trainingA = null)
    {
        if (paired && a.Count != b.Count)
            throw new ArgumentException("Paired domains must be as many.", nameof(b));
        this.a = a;
        this.b = b;
        this.paired = paired;
        samplerA = new BatchSampler(seed, trainingA ?? a.Count, batchSize);
        samplerB = paired ? samplerA : new BatchSampler(seed ^ 0x5A5A5A5A, b.Count, batchSize);
    }

    public long EpochOf(long step) => samplerA.EpochOf(step);

    public (Tensor A, Tensor B) Batch(long step, Device device) =>
        (a.Batch(samplerA.Indices(step), device), b.Batch(samplerB.Indices(step), device));

    public void Dispose()
    {
        if (!owned)
            return;
        a.Dispose();
        b.Dispose();
    }
}
