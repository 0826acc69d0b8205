using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;

namespace GanService.Tests.Browser;

/// <summary>The job page's actions on a finished job: continue, export and delete.</summary>
public sealed partial class DashboardTests
{
    [ChromiumFact]
    public async Task A_finished_job_is_continued_and_then_deleted_from_its_page()
    {
        var client = (await fixture.HostAsync(postgres)).Client;
        var (page, watch) = await fixture.PageAsync(postgres);
        var id = await DashboardFixture.SubmitAsync(client, "to continue", steps: 10, checkpointEvery: 5);
        await GanServiceFactory.WaitForStatusAsync(client, id, Jobs.JobStatus.Succeeded);
        await page.GotoAsync($"/#/jobs/{id}");
        await page.WaitForSelectorAsync("#view[data-ready]");

        await page.GetByLabel("Steps to train further").FillAsync("5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue training" }).ClickAsync();
        await page.Locator(".page-head .step", new() { HasText = "step 15 / 15" }).WaitForAsync();
        await page.Locator(".page-head .badge", new() { HasText = "Succeeded" }).WaitForAsync();
        Assert.Equal(15, (await GanServiceFactory.GetJobAsync(client, id)).Step);

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete job" }).ClickAsync();
        await page.WaitForURLAsync("**/#/jobs");
        await page.WaitForSelectorAsync("#view[data-ready]");
        Assert.Equal(0, await page.Locator($"tr[data-id='{id}']").CountAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{id}")).StatusCode);
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task Export_downloads_the_checkpoint_chosen_on_the_timeline()
    {
        var id = await fixture.TrainedJobAsync(postgres); // checkpoints at 20 and 40
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync($"/#/jobs/{id}");
        await page.WaitForSelectorAsync("#view[data-ready]");
        await page.Locator(".timeline[data-count='2']").WaitForAsync();
        await page.GetByLabel("Checkpoint step").FillAsync("0");

        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Button, new() { Name = "Export for PyTorch" }).ClickAsync()
        );

        Assert.Equal($"dcgan-{id}-step-20.zip", download.SuggestedFilename);
        Assert.Null(await download.FailureAsync());
        using var zip = ZipFile.OpenRead(await download.PathAsync());
        string[] expected = ["generator.safetensors", "config.json", "gan_generator.py", "README.md"];
        Assert.Subset(zip.Entries.Select(e => e.FullName).ToHashSet(), expected.ToHashSet());
        using var config = JsonDocument.Parse(zip.GetEntry("config.json")!.Open());
        Assert.Equal(20, config.RootElement.GetProperty("step").GetInt32());
        watch.AssertClean();
    }
}
