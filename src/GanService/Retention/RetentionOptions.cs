using System.ComponentModel.DataAnnotations;

namespace GanService.Retention;

/// <summary>The <c>Gan:Retention</c> section: how many checkpoints a job keeps when its request says nothing.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Gan:Retention";

    /// <summary>
    /// The <c>checkpoints.keep</c> a job gets when its request sets none; 0 keeps every checkpoint. Written into the
    /// job's recipe at submission, so changing it never prunes jobs submitted before.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int Keep { get; set; }

    /// <summary>
    /// How long a VACUUM of <c>gan.checkpoints</c> waits after the prune that asked for it, gathering the prunes of
    /// that time into one run.
    /// </summary>
    public TimeSpan VacuumDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
