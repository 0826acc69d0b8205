using GanService.Gan.Quality;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Quality;

public sealed class RealStatisticsTests
{
    [Fact]
    public void Statistics_round_trip_through_bytes_and_score_a_set_against_itself_as_perfect()
    {
        var features = randn([400, 8], ScalarType.Float64, generator: new Generator(3));
        var stats = RealStatistics.From(features, subsetSize: 400, seed: 2);
        Assert.Equal((400L, 8, 400), (stats.Count, stats.Dimensions, stats.SubsetCount));
        var back = RealStatistics.FromBytes(stats.ToBytes());
        Assert.Equal((stats.Network, stats.Side, stats.Count), (back.Network, back.Side, back.Count));
        Assert.Equal(stats.Mean, back.Mean);
        Assert.Equal(stats.Covariance, back.Covariance);
        Assert.Equal(stats.Subset, back.Subset);

        var scores = QualityScores.Evaluate(back, features);
        Assert.InRange(scores.Fd, 0, 1e-9);
        Assert.Equal((1.0, 1.0), (scores.Precision, scores.Recall));
        Assert.Equal((FeatureNetwork.Name, 400), (scores.Network, scores.Samples));
    }

    [Fact]
    public void The_kept_subset_is_a_fixed_draw_of_real_rows()
    {
        var features = arange(50 * 4, ScalarType.Float64).reshape(50, 4);
        var a = RealStatistics.From(features, subsetSize: 10, seed: 5);
        Assert.Equal(a.Subset, RealStatistics.From(features, subsetSize: 10, seed: 5).Subset);
        Assert.NotEqual(a.Subset, RealStatistics.From(features, subsetSize: 10, seed: 6).Subset);
        var rows = a.SubsetTensor();
        Assert.Equal(10, a.SubsetCount);
        for (int i = 0; i < 10; i++)
            Assert.Equal(0, rows[i, 0].item<double>() % 4); // each kept row starts a row of the input
    }

    [Fact]
    public void Damaged_bytes_are_refused()
    {
        var bytes = RealStatistics.From(randn([20, 4], ScalarType.Float64), subsetSize: 10).ToBytes();
        Assert.Throws<InvalidDataException>(() => RealStatistics.FromBytes(bytes[..^8]));
        Assert.Throws<InvalidDataException>(() => RealStatistics.FromBytes([1, 2, 3]));
        var wrongMagic = (byte[])bytes.Clone();
        wrongMagic[0] ^= 0xFF;
        Assert.Throws<InvalidDataException>(() => RealStatistics.FromBytes(wrongMagic));
    }
}
