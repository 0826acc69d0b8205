using System.ComponentModel.DataAnnotations;

namespace GanService.Evaluations;

/// <summary>The <c>Gan:Evaluation</c> configuration section: what evaluations may cost and when they alarm.</summary>
public sealed class EvaluationOptions
{
    public const string Section = "Gan:Evaluation";

    /// <summary>
    /// Whether a job that does not mention <c>evaluation</c> gets its family's scheduled evaluations (true), or none
    /// (false: for hosts whose cores are better spent training; evaluations can still be requested).
    /// </summary>
    public bool ByDefault { get; set; } = true;

    /// <summary>The most samples one evaluation may score (a request's cost is bounded before it is queued).</summary>
    [Range(16, 100_000)]
    public int MaxSamples { get; set; } = 4096;

    /// <summary>Real images whose features make a dataset's statistics (all of them when it has fewer).</summary>
    [Range(64, 100_000)]
    public int RealSamples { get; set; } = 1000;

    /// <summary>
    /// Where the feature network's ONNX files are; empty for <c>DnnImageModels</c> beside the binaries, where the build
    /// puts them.
    /// </summary>
    public string? FeatureNetworkDirectory { get; set; }

    /// <summary>
    /// Recall below this raises the mode-collapse warning, once an earlier evaluation had twice this recall.
    /// </summary>
    [Range(0.0, 1.0)]
    public double CollapseRecall { get; set; } = 0.05;

    /// <summary>A share of near-duplicate samples above this raises the mode-collapse warning.</summary>
    [Range(0.0, 1.0)]
    public double CollapseDuplicateShare { get; set; } = 0.5;
}
