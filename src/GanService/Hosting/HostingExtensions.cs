using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using GanService.Datasets;
using GanService.Gan.Cpu;
using GanService.Gan.Runtime;
using GanService.Generators;
using Microsoft.Extensions.Options;

namespace GanService.Hosting;

public static class HostingExtensions
{
    public static WebApplicationBuilder AddGanOptions(this WebApplicationBuilder builder)
    {
        // Statuses read "Running", not 2, in responses and in Swagger.
        // A misspelt field ("batch_size") is a 400 naming it, never a default silently used in its place.
        // A job's answer shows only the fields its family reads.
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.TypeInfoResolver = (
                o.SerializerOptions.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()
            ).WithAddedModifier(Jobs.FamilyFieldVisibility.Modify);
        });
        builder
            .Services.AddOptions<GanOptions>()
            .BindConfiguration(GanOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder
            .Services.AddOptions<Quotas.QuotaOptions>()
            .BindConfiguration(Quotas.QuotaOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<FaultOptions>().BindConfiguration(FaultOptions.Section);
        builder.Services.AddSingleton<FaultInjection>();
        return builder;
    }

    /// <summary>libtorch threads, the inference threads, the dataset catalog and the generator caches.</summary>
    public static WebApplicationBuilder AddTraining(this WebApplicationBuilder builder)
    {
        // Training jobs run on threads of their own with Gan:TorchThreads, renders with one; everything else (imports,
        // previews, loading generators) runs single-threaded too, so no other thread keeps an OpenMP team that would
        // slow training.
        TorchRuntime.SetDefaultThreads(1);
        // One render thread per sampling slot (Gan:RateLimits:SamplingConcurrency), from the validated options.
        builder.Services.AddSingleton(services => new InferenceThreads(
            services.GetRequiredService<IOptions<RateLimitOptions>>().Value.EffectiveSamplingConcurrency,
            services.GetRequiredService<IOptions<GanOptions>>().Value.SamplingPriority
        ));
        builder.Services.AddSingleton<DatasetCatalog>();
        builder.Services.AddSingleton<GeneratorCache>();
        builder.Services.AddSingleton<PngCache>();
        return builder;
    }

    /// <summary>Logs the role, device and queues once, so an operator sees what this process will do.</summary>
    public static void LogStartup(this WebApplication app)
    {
        var gan = app.Services.GetRequiredService<IOptions<GanOptions>>().Value;
        app.Logger.LogInformation(
            "GanService role {Role}; device {Device} (CUDA available: {Cuda}); data directories {Data}.",
            gan.Role,
            gan.Device,
            TorchRuntime.CudaAvailable,
            string.Join(", ", gan.DataDirectories)
        );
        if (!FinalizerQuarantine.Installed)
            app.Logger.LogWarning(
                "TorchSharp's finalizers free at once, without the quarantine ({Problem}): a garbage collection "
                    + "during a tensor operation may fail it or crash the process (see FinalizerQuarantine).",
                FinalizerQuarantine.Problem
            );
        // Before the first job or render, so a host whose CPU needs libtorch's slow convolutions says so at start.
        var convolutions = OneDnnCheck.Ensure();
        if (convolutions is OneDnnCheck.Verdict.Routed)
            app.Logger.LogWarning(
                "oneDNN's convolutions failed the start-up self-test on this CPU: each convolution shape is checked "
                    + "once on first use and the wrong ones run on libtorch's reference kernel (see OneDnnCheck, "
                    + "Convolutions)."
            );
        if (convolutions is OneDnnCheck.Verdict.DisabledByCheck)
            app.Logger.LogWarning(
                "oneDNN's convolutions failed the start-up self-test on this CPU: libtorch's own (slower) "
                    + "convolutions are in use (see OneDnnCheck)."
            );
        if (convolutions is OneDnnCheck.Verdict.WrongNotDisabled)
            app.Logger.LogError(
                "oneDNN's convolutions failed the start-up self-test on this CPU and could not be turned off: "
                    + "training results may be wrong (see OneDnnCheck)."
            );
        if (!Nnpack.Ensure())
            app.Logger.LogInformation(
                "NNPACK cannot start on this CPU (libtorch's warning above): libtorch no longer offers it "
                    + "convolutions, so that warning is not repeated per request (see Nnpack)."
            );
    }
}
