using GanService.Hosting;

namespace GanService.Events;

public static class EventExtensions
{
    /// <summary>
    /// Live job events: one listening connection per API host, the hub that fans its notifications out to streams.
    /// </summary>
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        builder
            .Services.AddOptions<EventOptions>()
            .BindConfiguration(EventOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<JobEventHub>();
        builder.Services.AddSingleton<JobEventReader>();
        builder.Services.AddSingleton<JobEventStreams>();
        var gan = builder.Configuration.GetSection(GanOptions.Section).Get<GanOptions>() ?? new GanOptions();
        if (gan.ServesApi)
            builder.Services.AddHostedService<JobEventListener>();
        return builder;
    }
}
