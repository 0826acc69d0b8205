using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Tests;

/// <summary>
/// export.zip through HTTP, with authentication on: the exported module, run in PyTorch, draws for a seed the
/// pixels samples.png serves for it; the owner rules of the other generator endpoints; refusals naming the field.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ExportTests(PostgresServer postgres, BuiltOnce<ExportTests.Exported> runs)
    : IClassFixture<BuiltOnce<ExportTests.Exported>>
{
    /// <summary>The samples the zip's README saves as grid.png: 16 images from seed 0, 4 a row.</summary>
    private const string Grid = "count=16&seed=0";

    /// <summary>Alice's tiny DCGAN job on a host with keys on, with bob and an anonymous caller.</summary>
    public sealed record Exported(TrainedJob Job, HttpClient Bob, HttpClient Anonymous) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Bob.Dispose();
            Anonymous.Dispose();
            await Job.DisposeAsync();
        }
    }

    private Task<Exported> RunAsync() =>
        runs.GetAsync(async () =>
        {
            var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), settings: AuthTests.AuthOn());
            using var admin = AuthTests.As(service, AuthTests.AdminKey);
            var alice = AuthTests.As(service, await AuthTests.CreateKeyAsync(admin, "alice"));
            var bob = AuthTests.As(service, await AuthTests.CreateKeyAsync(admin, "bob"));
            var request = TestData.SyntheticJob(steps: 2, batchSize: 8, checkpointEvery: 2, seed: 3);
            var job = await TrainedJob.RunAsync(service, alice, request);
            return new Exported(job, bob, AuthTests.As(service, null));
        });

    [Fact]
    public async Task The_exported_module_draws_the_services_samples_for_a_seed()
    {
        var run = await RunAsync();
        var (client, generator) = (run.Job.Client, run.Job.Generator);
        var response = await client.GetAsync($"{generator}/export.zip");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("2", response.Headers.GetValues("X-Checkpoint-Step").Single());

        var folder = Directory.CreateTempSubdirectory("export-http-").FullName;
        try
        {
            using (var zip = new ZipArchive(await response.Content.ReadAsStreamAsync()))
            {
                Assert.Equal(
                    ["README.md", "config.json", "gan_generator.py", "generator.safetensors"],
                    zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal)
                );
                zip.ExtractToDirectory(folder);
            }
            // The README's own lines, run where they say: in the unzipped folder.
            var readme = await File.ReadAllTextAsync(Path.Combine(folder, "README.md"));
            var start = readme.IndexOf("```python\n", StringComparison.Ordinal) + "```python\n".Length;
            var lines = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
            await File.WriteAllTextAsync(Path.Combine(folder, "readme.py"), lines);
            PythonTorch.RunIn(folder, "readme.py");
            var png = Path.Combine(folder, "grid.png");

            using var python = TestData.DecodePng(await File.ReadAllBytesAsync(png));
            using var served = TestData.DecodePng(await client.GetByteArrayAsync($"{generator}/samples.png?{Grid}"));
            Assert.Equal((served.Width, served.Height), (python.Width, python.Height));
            int worst = 0;
            for (int y = 0; y < served.Height; y++)
            for (int x = 0; x < served.Width; x++)
            {
                var (a, b) = (served[x, y], python[x, y]);
                worst = Math.Max(
                    worst,
                    Math.Max(Math.Abs(a.R - b.R), Math.Max(Math.Abs(a.G - b.G), Math.Abs(a.B - b.B)))
                );
            }
            Assert.True(worst <= 1, $"PyTorch's grid differs from samples.png by {worst}/255.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Those_who_may_sample_the_generator_may_export_it_and_no_one_else()
    {
        var run = await RunAsync();
        var path = $"{run.Job.Generator}/export.zip";
        Assert.Equal(HttpStatusCode.NotFound, (await run.Anonymous.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await run.Bob.GetAsync(path)).StatusCode);
        var unknown = await run.Job.Client.GetAsync($"/api/generators/{Guid.NewGuid()}/export.zip");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // Public, anyone may export it, as anyone may sample it; private again for the class's other facts.
        var visibility = $"/api/jobs/{run.Job.Done.Id}/visibility";
        Assert.True((await run.Job.Client.PutAsJsonAsync(visibility, new { @public = true })).IsSuccessStatusCode);
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await run.Anonymous.GetAsync(path)).StatusCode);
        }
        finally
        {
            await run.Job.Client.PutAsJsonAsync(visibility, new { @public = false });
        }
    }

    [Fact]
    public async Task Format_pt_holds_a_pytorch_state_dict_instead_of_safetensors()
    {
        var run = await RunAsync();
        var response = await run.Job.Client.GetAsync($"{run.Job.Generator}/export.zip?format=pt&step=2");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var zip = new ZipArchive(await response.Content.ReadAsStreamAsync());
        Assert.Contains("generator.pt", zip.Entries.Select(e => e.FullName));
        Assert.DoesNotContain("generator.safetensors", zip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public async Task A_host_runs_one_export_at_a_time_and_the_next_waits_for_the_slot()
    {
        var run = await RunAsync();
        var slots = run.Job.Service.Services.GetRequiredService<Hosting.ExportPermits>();
        var held = await slots.AcquireAsync(default); // the host's one slot (Gan:RateLimits:ConcurrentExports)
        Assert.True(held.IsAcquired);

        var waiting = run.Job.Client.GetAsync($"{run.Job.Generator}/export.zip?step=2");
        await Task.Delay(1000);
        bool ranAlongside = waiting.IsCompleted;
        held.Dispose();
        using var answer = await waiting;

        Assert.False(ranAlongside, "an export ran while the host's only export slot was taken");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("application/zip", answer.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("step=999", HttpStatusCode.NotFound, "step")]
    [InlineData("step=-1", HttpStatusCode.BadRequest, "step")]
    [InlineData("step=soon", HttpStatusCode.BadRequest, "step")]
    [InlineData("format=onnx", HttpStatusCode.BadRequest, "format")]
    public async Task Bad_parameters_are_refused_by_name(string query, HttpStatusCode status, string field)
    {
        var run = await RunAsync();
        var response = await run.Job.Client.GetAsync($"{run.Job.Generator}/export.zip?{query}");
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString());
        var problem = System.Text.Json.JsonSerializer.Deserialize<ValidationProblemDetails>(
            body,
            GanServiceFactory.Json
        );
        Assert.True(problem!.Errors.ContainsKey(field), body);
    }
}
