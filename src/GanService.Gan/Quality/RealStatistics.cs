using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// What a dataset contributes to every evaluation against it, computed once: the mean and covariance of its
/// features in float64 (for the Frechet distance) and a fixed subset of its features (for the kernel distance,
/// precision and recall), with the feature network and image side they were taken with, and the distance below which
/// two items count as near-duplicates (<see cref="NearDuplicates.Radius"/>). It round-trips through bytes so that a
/// host can store it once per dataset.
/// </summary>
public sealed record RealStatistics(
    string Network,
    int Side,
    long Count,
    int Dimensions,
    double[] Mean,
    double[] Covariance,
    double[] Subset,
    double DuplicateRadius
)
{
    /// <summary>Real features kept for the kernel distance, precision and recall by default.</summary>
    public const int DefaultSubsetSize = 1000;

    private static ReadOnlySpan<byte> Magic => "GANRS2\0\0"u8;

    /// <summary>Items in the kept subset.</summary>
    public int SubsetCount => Subset.Length / Dimensions;

    /// <summary>The statistics of real features [N, d]; the kept subset is drawn without replacement by seed.</summary>
    public static RealStatistics From(
        Tensor features,
        int subsetSize = DefaultSubsetSize,
        long seed = 0,
        string network = FeatureNetwork.Name,
        int side = FeatureNetwork.DefaultSide
    )
    {
        using var scope = NewDisposeScope();
        var (mean, covariance) = FrechetDistance.Moments(features);
        long count = features.shape[0];
        var pick = randperm(count, generator: new Generator((ulong)seed))[..(int)Math.Min(subsetSize, count)];
        var subset = features.to(ScalarType.Float64).index_select(0, pick.sort().Values);
        return new RealStatistics(
            network,
            side,
            count,
            (int)features.shape[1],
            Values(mean),
            Values(covariance),
            Values(subset),
            NearDuplicates.Radius(subset)
        );
    }

    public Tensor MeanTensor() => tensor(Mean, [Dimensions], ScalarType.Float64);

    public Tensor CovarianceTensor() => tensor(Covariance, [Dimensions, Dimensions], ScalarType.Float64);

    public Tensor SubsetTensor() => tensor(Subset, [SubsetCount, Dimensions], ScalarType.Float64);

    /// <summary>
    /// Little-endian: magic, network name, side, count, sizes, duplicate radius, then mean, covariance, subset.
    /// </summary>
    public byte[] ToBytes()
    {
        var name = Encoding.UTF8.GetBytes(Network);
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(Magic);
        writer.Write(name.Length);
        writer.Write(name);
        writer.Write(Side);
        writer.Write(Count);
        writer.Write(Dimensions);
        writer.Write(SubsetCount);
        writer.Write(DuplicateRadius);
        foreach (var values in new[] { Mean, Covariance, Subset })
        foreach (var value in values)
            writer.Write(value);
        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>The statistics written by <see cref="ToBytes"/>; anything else is refused, never half read.</summary>
    public static RealStatistics FromBytes(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes));
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException("These bytes are not stored real statistics.");
            string network = Encoding.UTF8.GetString(reader.ReadBytes(Bounded(reader.ReadInt32(), 256)));
            int side = reader.ReadInt32();
            long count = reader.ReadInt64();
            int dimensions = Bounded(reader.ReadInt32(), 1 << 16);
            int subset = Bounded(reader.ReadInt32(), 1 << 20);
            double radius = reader.ReadDouble();
            long expected = (long)dimensions * (1 + dimensions + subset) * sizeof(double);
            if (dimensions < 1 || bytes.Length - reader.BaseStream.Position != expected)
                throw new InvalidDataException("Stored real statistics have the wrong length.");
            double[] Read(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => reader.ReadDouble())];
            var mean = Read(dimensions);
            var covariance = Read((long)dimensions * dimensions);
            return new RealStatistics(
                network,
                side,
                count,
                dimensions,
                mean,
                covariance,
                Read((long)subset * dimensions),
                radius
            );
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("Stored real statistics end early.");
        }
    }

    private static int Bounded(int value, int max) =>
        value is >= 0 && value <= max ? value : throw new InvalidDataException("Stored real statistics are corrupt.");

    private static double[] Values(Tensor t) => t.contiguous().cpu().data<double>().ToArray();
}
