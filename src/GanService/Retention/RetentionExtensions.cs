namespace GanService.Retention;

public static class RetentionExtensions
{
    /// <summary>
    /// The retention options and the VACUUM that follows prunes, on every host: API hosts delete jobs too.
    /// </summary>
    public static WebApplicationBuilder AddRetention(this WebApplicationBuilder builder)
    {
        builder
            .Services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<CheckpointVacuum>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CheckpointVacuum>());
        return builder;
    }
}
