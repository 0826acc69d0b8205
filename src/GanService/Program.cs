using GanService.Auth;
using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Evaluations;
using GanService.Events;
using GanService.Gan.Runtime;
using GanService.Generators;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Jobs.Deletion;
using GanService.Persistence;
using GanService.Retention;
using GanService.Transfer;

TorchProcess.Configure(); // before libtorch loads

var builder = WebApplication.CreateBuilder(args);
builder.AddGanOptions();
builder.AddPersistence();
builder.AddTraining();
builder.AddDatasets();
builder.AddJobQueue();
builder.AddEvaluations();
builder.AddRetention();
builder.AddEvents();
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
    app.UseWebPage();
    app.UseApiDocs();
    app.MapKeys();
    app.MapJobs();
    app.MapContinue();
    app.MapDatasets();
    app.MapCheckpoints();
    app.MapPins();
    app.MapJobDeletion();
    app.MapEvaluations();
    app.MapEvents();
    app.MapGenerators();
    app.MapSamples();
    app.MapLatentSpace();
    app.MapTranslate();
    app.MapExport();
    app.MapDashboard();
}
app.RefuseAnonymousNetwork();
app.LogStartup();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
