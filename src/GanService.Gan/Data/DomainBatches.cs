using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>
/// Batches of two-domain data for image-to-image translation. Paired data draws the same indices from both
/// domains, so A_i and B_i stay together; unpaired domains are shuffled independently, each by its own seed.
/// </summary>
public sealed class DomainBatches : IDisposable
{
    private readonly ImageDataset a, b;
    private readonly BatchSampler samplerA, samplerB;
    private readonly bool paired;

    public DomainBatches(StoredDataset stored, long seed, int batchSize)
    {
        if (stored.Header.Kind is not (DatasetKind.Paired or DatasetKind.Unpaired))
            throw new ArgumentException($"A {stored.Header.Kind} dataset has one domain, not two.", nameof(stored));
        paired = stored.Header.Kind == DatasetKind.Paired;
        a = stored.ToImageDataset("A");
        b = stored.ToImageDatasetB("B")!;
        samplerA = new BatchSampler(seed, a.Count, batchSize);
        samplerB = paired ? samplerA : new BatchSampler(seed ^ 0x5A5A5A5A, b.Count, batchSize);
    }

    public (Tensor A, Tensor B) Batch(long step, Device device) =>
        (a.Batch(samplerA.Indices(step), device), b.Batch(samplerB.Indices(step), device));

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
    }
}
