using System.Net;
using Microsoft.Playwright;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests.Browser;

/// <summary>
/// The dashboard in a real chromium against a real host process, PostgreSQL and Hangfire worker: what a user does
/// on each page, and that no page logs an error or loses a request meanwhile. Each test takes a screenshot of its
/// page; with GANSERVICE_SCREENSHOTS set to a folder (docs/screenshots, which the README shows) it is kept there.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class DashboardTests(PostgresServer postgres, DashboardFixture fixture)
    : IClassFixture<DashboardFixture>
{
    [ChromiumFact]
    public async Task A_job_submitted_from_the_form_shows_live_progress_losses_and_checkpoints_without_a_reload()
    {
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync("/#/submit");
        await page.GetByLabel("Family", new() { Exact = true }).SelectOptionAsync("dcgan");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("from the form");
        await page.GetByLabel("Dataset", new() { Exact = true }).FillAsync("synthetic");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("60");
        await page.GetByLabel("Batch size", new() { Exact = true }).FillAsync("16");
        await page.GetByLabel("Checkpoint every (steps)", new() { Exact = true }).FillAsync("20");
        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit job" }).ClickAsync();
        await page.WaitForURLAsync("**/#/jobs/*");
        // A reload would lose this mark: everything below must arrive live.
        await page.EvaluateAsync("() => window.stayed = true");
        await page.WaitForSelectorAsync("#view[data-ready]");
        double firstProgress = await Progress(page);
        int firstPoints = await ChartPoints(page);

        await page.WaitForFunctionAsync(
            "() => document.querySelector('.timeline img[data-step]')?.naturalWidth > 0",
            null,
            new() { Timeout = 150_000 }
        );
        await page.WaitForFunctionAsync(
            "() => document.querySelector('.page-head progress')?.value === 100",
            null,
            new() { Timeout = 150_000 }
        );
        Assert.True(firstProgress < 100, $"the job was done before its page opened ({firstProgress}%)");
        // The stream's snapshot of the job can run ahead of the metric events committed while it was read: the
        // last rows arrive just after the bar is full.
        await page.WaitForFunctionAsync(
            "() => Number(document.querySelector('canvas').dataset.points) >= 6",
            null,
            new() { Timeout = 30_000 }
        );
        Assert.Equal(6, await ChartPoints(page)); // a metric row every 10 of 60 steps
        Assert.True(firstPoints < 6, "the loss curve gained no point while the page was open");
        await page.GetByText("Succeeded").First.WaitForAsync();
        Assert.Equal("3", await page.GetAttributeAsync(".timeline", "data-count"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.stayed === true"), "the page reloaded");

        await Screenshot(page, "job");
        await page.Locator(".timeline").ScrollIntoViewIfNeededAsync();
        await Screenshot(page, "job-checkpoints");
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task Changing_the_seed_in_the_explorer_loads_a_different_image()
    {
        var id = await fixture.TrainedJobAsync(postgres);
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync($"/#/explore/{id}");
        var samples = page.GetByRole(AriaRole.Img, new() { Name = "Generated samples" });
        string first = await LoadedSource(page, samples);
        Assert.Contains($"/api/generators/{id}/samples.png?seed=1", first);

        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("7");
        await page.GetByLabel("Seed", new() { Exact = true }).DispatchEventAsync("change");
        await page.WaitForFunctionAsync("first => document.querySelector('img.generated').src !== first", first);
        string second = await LoadedSource(page, samples);
        Assert.Contains("seed=7", second);
        await page.GetByRole(AriaRole.Img, new() { Name = "Interpolation between two seeds (animated)" })
            .WaitForAsync();
        await page.WaitForFunctionAsync("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)");
        await Screenshot(page, "explorer");
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task A_dataset_uploaded_by_the_file_input_appears_with_its_preview()
    {
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync("/#/datasets");
        var red = UploadFiles.Png(12, 12, new Rgb24(200, 30, 30));
        var blue = UploadFiles.Png(12, 12, new Rgb24(30, 30, 200));
        var zip = UploadFiles.Zip(("red/1.png", red), ("red/2.png", red), ("blue/1.png", blue), ("blue/2.png", blue));
        await page.GetByLabel("Archive", new() { Exact = false })
            .SetInputFilesAsync(
                new FilePayload
                {
                    Name = "squares.zip",
                    MimeType = "application/zip",
                    Buffer = zip,
                }
            );
        await page.GetByLabel("Dataset name", new() { Exact = true }).FillAsync("squares");
        await page.GetByLabel("Dataset image size", new() { Exact = true }).FillAsync("16");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();

        await page.GetByText("Uploaded \"squares\": 4 images").WaitForAsync();
        Assert.Equal(100, await page.EvaluateAsync<int>("() => document.querySelector('form.upload progress').value"));
        var preview = page.GetByRole(AriaRole.Img, new() { Name = "Preview of squares" });
        await LoadedSource(page, preview);
        await Screenshot(page, "datasets");
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task A_dataset_uploaded_from_the_new_job_form_is_chosen_for_the_job_with_its_preview()
    {
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync("/#/submit");
        await page.GetByText("Upload a dataset for this job").ClickAsync();
        var grey = UploadFiles.Png(12, 12, new Rgb24(90, 90, 90));
        var zip = UploadFiles.Zip(("a.png", grey), ("b.png", grey), ("c.png", grey));
        await page.GetByLabel("Archive", new() { Exact = false })
            .SetInputFilesAsync(
                new FilePayload
                {
                    Name = "greys.zip",
                    MimeType = "application/zip",
                    Buffer = zip,
                }
            );
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();

        await page.GetByText("Uploaded \"greys.zip\": 3 images").WaitForAsync();
        var chosen = await page.GetByLabel("Dataset", new() { Exact = true }).InputValueAsync();
        Assert.True(Guid.TryParse(chosen, out _), $"the dataset field holds '{chosen}'");
        await LoadedSource(page, page.GetByRole(AriaRole.Img, new() { Name = "Preview of greys.zip" }));
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task A_refused_value_is_shown_beside_its_field()
    {
        var (page, watch) = await fixture.PageAsync(postgres);
        watch.Expect("/api/jobs", 400);
        await page.GotoAsync("/#/submit");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit job" }).ClickAsync();

        var steps = page.GetByLabel("Steps", new() { Exact = true });
        await page.WaitForSelectorAsync("[name='training.steps'][aria-invalid='true']");
        string error = await page.InnerTextAsync("#" + await steps.GetAttributeAsync("aria-describedby"));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Contains("/#/submit", page.Url);
        await Screenshot(page, "submit");
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task A_new_job_appears_in_the_list_live_is_cancelled_from_its_page_and_leaves_when_deleted()
    {
        var client = (await fixture.HostAsync(postgres)).Client;
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync("/#/jobs");
        await page.WaitForSelectorAsync("#view[data-ready]");
        var id = await DashboardFixture.SubmitAsync(client, "to cancel", steps: 5000, checkpointEvery: 1000);
        var row = page.Locator($"tr[data-id='{id}']");
        await row.WaitForAsync(); // from the all-jobs stream: the list was loaded before the job existed
        await page.GetByLabel("Filter", new() { Exact = true }).FillAsync("to cancel");
        Assert.Equal(1, await page.Locator("table.jobs tbody tr:not([hidden])").CountAsync());

        await row.GetByRole(AriaRole.Link).ClickAsync();
        var cancel = page.GetByRole(AriaRole.Button, new() { Name = "Cancel job" });
        await cancel.ClickAsync();
        await page.Locator(".page-head .badge", new() { HasText = "Cancelled" }).WaitForAsync();
        Assert.True(await cancel.IsDisabledAsync());
        await page.GoBackAsync();
        await page.Locator($"tr[data-id='{id}'][data-status='Cancelled']").WaitForAsync();
        await Screenshot(page, "jobs");

        // Deleted elsewhere (here through the API), it leaves the open list without a reload.
        await page.EvaluateAsync("() => window.stayed = true");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/jobs/{id}")).StatusCode);
        await row.WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.True(await page.EvaluateAsync<bool>("() => window.stayed === true"), "the page reloaded");
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task The_pages_fit_a_phone()
    {
        var id = await fixture.TrainedJobAsync(postgres);
        var (page, watch) = await fixture.PageAsync(postgres, width: 390);
        foreach (var route in new[] { "jobs", "submit", "datasets", $"jobs/{id}", $"explore/{id}" })
        {
            await page.GotoAsync($"/#/{route}");
            await page.WaitForSelectorAsync($"#view[data-page='{route.Split('/')[0]}'][data-ready]");
            await page.WaitForFunctionAsync("() => [...document.images].every(i => i.complete)");
            int overflow = await page.EvaluateAsync<int>(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            );
            Assert.True(overflow <= 0, $"#/{route} is {overflow} px wider than a 390 px screen");
        }
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task With_keys_on_the_page_asks_once_for_a_key_and_sends_it_as_a_header()
    {
        var address = await fixture.KeyedHostAsync(postgres);
        var (page, watch) = await fixture.PageAsync(postgres, address: address);
        watch.Expect("/api/", 401); // the calls before the key is given
        var urls = new List<string>();
        var keyed = new List<string>();
        page.Request += (_, request) =>
        {
            lock (urls)
            {
                urls.Add(request.Url);
                if (request.Headers.TryGetValue("x-api-key", out var key) && key == DashboardFixture.AdminKey)
                    keyed.Add(request.Url);
            }
        };
        await page.GotoAsync("/#/jobs");
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(DashboardFixture.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await page.GetByText("No jobs yet", new() { Exact = false }).WaitForAsync();

        await page.GotoAsync("/#/datasets");
        await page.GetByText("No uploaded datasets", new() { Exact = false }).WaitForAsync();
        Assert.False(await page.Locator("#key-dialog").IsVisibleAsync(), "the key was asked for twice");
        Assert.Equal(
            DashboardFixture.AdminKey,
            await page.EvaluateAsync<string>("() => sessionStorage.getItem('ganservice.apiKey')")
        );
        lock (urls)
        {
            Assert.DoesNotContain(urls, url => url.Contains(DashboardFixture.AdminKey));
            Assert.Contains(keyed, url => url.EndsWith("/api/datasets?pageSize=100"));
            Assert.Contains(keyed, url => url.EndsWith("/api/events"));
        }
        watch.AssertClean();
    }

    private static Task<double> Progress(IPage page) =>
        page.EvaluateAsync<double>("() => document.querySelector('.page-head progress').value");

    private static Task<int> ChartPoints(IPage page) =>
        page.EvaluateAsync<int>("() => Number(document.querySelector('canvas').dataset.points)");

    /// <summary>Waits until the image has loaded and returns its src.</summary>
    private static async Task<string> LoadedSource(IPage page, ILocator image)
    {
        await image.WaitForAsync();
        var handle = await image.ElementHandleAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", handle);
        return await image.GetAttributeAsync("src") ?? "";
    }

    /// <summary>
    /// A screenshot at 1280x800 (the page must render at that size in every run), kept only where asked, so that
    /// a test run leaves the checkout as it found it.
    /// </summary>
    private static async Task Screenshot(IPage page, string name)
    {
        await page.SetViewportSizeAsync(1280, 800);
        var png = await page.ScreenshotAsync();
        Assert.True(png.Length > 0);
        if (Environment.GetEnvironmentVariable("GANSERVICE_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await File.WriteAllBytesAsync(Path.Combine(folder, $"{name}.png"), png);
        }
    }
}
