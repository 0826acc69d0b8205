namespace GanService.Evaluations;

public static class EvaluationExtensions
{
    /// <summary>
    /// Scoring checkpoints: on workers at the job's schedule and on request, and the answers built on it.
    /// </summary>
    public static WebApplicationBuilder AddEvaluations(this WebApplicationBuilder builder)
    {
        builder
            .Services.AddOptions<EvaluationOptions>()
            .BindConfiguration(EvaluationOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<RealStatisticsStore>();
        builder.Services.AddSingleton<EvaluationStore>();
        builder.Services.AddSingleton<CheckpointEvaluator>();
        builder.Services.AddSingleton<ScheduledEvaluations>();
        builder.Services.AddTransient<EvaluationRun>();
        builder.Services.AddSingleton<JobAnswers>();
        return builder;
    }
}
