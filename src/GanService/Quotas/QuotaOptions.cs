using System.ComponentModel.DataAnnotations;

namespace GanService.Quotas;

/// <summary>The <c>Gan:Quotas</c> section: what one owner may keep in the database and in the queues.</summary>
public sealed class QuotaOptions
{
    public const string Section = "Gan:Quotas";

    /// <summary>Bytes of checkpoints and uploaded datasets one owner may store; 0 means no limit.</summary>
    [Range(0, long.MaxValue)]
    public long MaxStoredBytes { get; set; } = 20L << 30;

    /// <summary>Queued plus running jobs one owner may have at once; 0 means no limit.</summary>
    [Range(0, int.MaxValue)]
    public int MaxActiveJobs { get; set; } = 100;
}
