using System.Text.Json.Serialization;
using GanService.Datasets;
using GanService.Gan.Runtime;
using GanService.Generators;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

public static class HostingExtensions
{
    public static WebApplicationBuilder AddGanOptions(this WebApplicationBuilder builder)
    {
        // Statuses read "Running", not 2, in responses and in Swagger.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOptions<GanOptions>().BindConfiguration(GanOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<FaultOptions>().BindConfiguration(FaultOptions.Section);
        builder.Services.AddSingleton<FaultInjection>();
        return builder;
    }

    /// <summary>libtorch threads, the dataset catalog and the generator cache.</summary>
    public static WebApplicationBuilder AddTraining(this WebApplicationBuilder builder)
    {
        var gan = builder.Configuration.GetSection(GanOptions.Section).Get<GanOptions>() ?? new GanOptions();
        // Leave a core to Kestrel and Hangfire's heartbeats where there is more than one.
        TorchRuntime.SetThreads(gan.TorchThreads > 0 ? gan.TorchThreads : Math.Max(1, Environment.ProcessorCount - (Environment.ProcessorCount > 2 ? 1 : 0)));
        builder.Services.AddSingleton<DatasetCatalog>();
        builder.Services.AddSingleton<GeneratorCache>();
        builder.Services.AddSingleton<PngCache>();
        return builder;
    }

    /// <summary>Logs the role, device and queues once, so an operator sees what this process will do.</summary>
    public static void LogStartup(this WebApplication app)
    {
        var gan = app.Services.GetRequiredService<IOptions<GanOptions>>().Value;
        app.Logger.LogInformation("GanService role {Role}; device {Device} (CUDA available: {Cuda}); data directories {Data}.",
            gan.Role, gan.Device, TorchRuntime.CudaAvailable, string.Join(", ", gan.DataDirectories));
    }
}
