using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

/// <summary>
/// The <c>Gan:Faults</c> section: crash points for the fault tests and the soak script, which must kill a worker at
/// exact places (inside a checkpoint transaction, at a given step) that an outside <c>kill -9</c> can only hit by
/// chance. Nothing is set by default; never set these in production.
/// </summary>
public sealed class FaultOptions
{
    public const string Section = "Gan:Faults";

    /// <summary>SIGKILL this process when a job reaches this step.</summary>
    public long? KillAtStep { get; set; }

    /// <summary>
    /// SIGKILL this process inside the checkpoint transaction for this step, after the insert, before commit.
    /// </summary>
    public long? KillDuringCheckpointAtStep { get; set; }

    /// <summary>
    /// Stop this process gracefully, as SIGTERM does, inside the checkpoint transaction for this step: once the job
    /// has seen the shutdown, before commit. A SIGTERM from outside lands there only by chance.
    /// </summary>
    public long? StopDuringCheckpointAtStep { get; set; }

    /// <summary>
    /// SIGKILL this process as the scheduled evaluation of this step's checkpoint starts: the checkpoint is stored,
    /// its evaluation is not.
    /// </summary>
    public long? KillDuringEvaluationAtStep { get; set; }

    /// <summary>
    /// <c>Environment.FailFast</c> as soon as a job of this name starts training: a native-style crash, every time.
    /// </summary>
    public string? CrashJobsNamed { get; set; }

    /// <summary>Report a divergence (as the trainer does for a non-finite loss) at this step.</summary>
    public long? DivergeAtStep { get; set; }

    /// <summary>
    /// Throw an I/O error whose message names a server path at this step: a failure of the service's own, whose text
    /// must stay in the log.
    /// </summary>
    public long? FailAtStep { get; set; }

    /// <summary>The path <see cref="FailAtStep"/>'s error names.</summary>
    public const string FailurePath = "/var/lib/ganservice/scratch/step.tmp";
}

public sealed class FaultInjection(IOptions<FaultOptions> options, IHostApplicationLifetime lifetime)
{
    private readonly FaultOptions faults = options.Value;
    private int stopRequested;

    public void OnStep(long step)
    {
        if (step == faults.KillAtStep)
            KillSelf();
        if (step == faults.DivergeAtStep)
            throw new Gan.Training.TrainingDivergedException(
                step,
                "discriminator loss NaN (injected by Gan:Faults:DivergeAtStep)"
            );
        if (step == faults.FailAtStep)
            throw new IOException($"{FaultOptions.FailurePath}: no space left on device (Gan:Faults:FailAtStep)");
    }

    public void BeforeCheckpointCommit(long step, CancellationToken job)
    {
        if (step == faults.KillDuringCheckpointAtStep)
            KillSelf();
        // Once: the save that the stopping job makes afterwards, without a token, must go through.
        if (step == faults.StopDuringCheckpointAtStep && Interlocked.Exchange(ref stopRequested, 1) == 0)
        {
            lifetime.StopApplication();
            job.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
        }
    }

    public void OnEvaluation(long step)
    {
        if (step == faults.KillDuringEvaluationAtStep)
            KillSelf();
    }

    public void OnJobStart(string jobName)
    {
        if (faults.CrashJobsNamed is { } name && name == jobName)
            Environment.FailFast($"Fault injection: job '{jobName}' crashes its worker (Gan:Faults:CrashJobsNamed).");
    }

    /// <summary>
    /// SIGKILL on Linux: no finally blocks, no flush, exactly what an OOM killer or a power cut leaves.
    /// </summary>
    private static void KillSelf() => Process.GetCurrentProcess().Kill();
}
