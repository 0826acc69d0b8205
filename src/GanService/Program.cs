using GanService.Auth;
using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Gan.Runtime;
using GanService.Generators;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;

// Before libtorch loads: keep glibc from returning large buffers on every free (1.6x faster DCGAN steps measured
// here) and from unmapping the training thread's heaps (thousands of page faults a step), and keep OpenMP's idle
// threads from spinning through the gaps renders need (see docs/benchmarks.md).
TorchRuntime.TuneAllocator();
TorchRuntime.ShortenOpenMpSpin();

var builder = WebApplication.CreateBuilder(args);
builder.AddGanOptions();
builder.AddPersistence();
builder.AddTraining();
builder.AddDatasets();
builder.AddJobQueue();
builder.AddProblemHandling();
builder.AddApiKeys();
builder.AddRateLimits();
builder.AddHealth();
builder.AddApiDocs();
builder.AddDashboard();

var app = builder.Build();
await app.WaitForDatabaseAsync();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.MapHealth();
if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GanOptions>>().Value.ServesApi)
{
    app.UseApiDocs();
    app.MapKeys();
    app.MapJobs();
    app.MapDatasets();
    app.MapCheckpoints();
    app.MapSamples();
    app.MapLatentSpace();
    app.MapTranslate();
    app.MapDashboard();
    app.RefuseAnonymousNetwork();
}
app.LogStartup();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
