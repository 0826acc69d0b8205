namespace GanService.Gan.Data;

/// <summary>
/// Which items make up the batch of a given step: each epoch a fresh permutation drawn from (seed, epoch),
/// the last partial batch dropped. Stateless in the step, so a resumed run sees exactly the batches an
/// uninterrupted one would.
/// </summary>
public sealed class BatchSampler
{
    private readonly long seed;
    private readonly int count;
    private readonly int batchSize;
    private long cachedEpoch = -1;
    private int[] permutation = [];

    public BatchSampler(long seed, int count, int batchSize)
    {
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize));
        if (count < batchSize)
            throw new ArgumentException(
                $"The dataset has {count} items, fewer than one batch of {batchSize}.",
                nameof(count)
            );
        this.seed = seed;
        this.count = count;
        this.batchSize = batchSize;
        StepsPerEpoch = count / batchSize;
    }

    public int StepsPerEpoch { get; }

    public long EpochOf(long step) => step / StepsPerEpoch;

    public long[] Indices(long step)
    {
        long epoch = EpochOf(step);
        if (epoch != cachedEpoch)
        {
            permutation = Permute(epoch);
            cachedEpoch = epoch;
        }
        int start = (int)(step % StepsPerEpoch) * batchSize;
        var indices = new long[batchSize];
        for (int i = 0; i < batchSize; i++)
            indices[i] = permutation[start + i];
        return indices;
    }

    private int[] Permute(long epoch)
    {
        // System.Random with a seed uses a fixed, documented-stable algorithm across .NET versions.
        var random = new Random(HashCode32(seed, epoch));
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }

    private static int HashCode32(long a, long b)
    {
        ulong h = (ulong)a * 0x9E3779B97F4A7C15UL ^ (ulong)b * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 29;
        return (int)(h ^ (h >> 32));
    }
}
