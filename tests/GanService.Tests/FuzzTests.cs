using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Tests;

/// <summary>
/// At least 1,000 generated requests against every endpoint: boundary and random values, wrong types, NaN strings,
/// unicode, broken JSON and multipart, oversized bodies, missing and wrong keys. None may answer 5xx, and every error
/// must be a problem document without stack traces or secrets.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class FuzzTests(PostgresServer postgres)
{
    private const int RequestsPerEndpoint = 1000;

    /// <summary>
    /// Every run sends the same requests, so a failure can be replayed; <c>GAN_FUZZ_SEED</c> explores other ones and
    /// <c>GAN_FUZZ_ONLY</c> (a path prefix) and <c>GAN_FUZZ_REQUESTS</c> aim a longer run at one endpoint.
    /// </summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("GAN_FUZZ_SEED"), out var seed)
        ? seed
        : 0;
    private static readonly string? Only = Environment.GetEnvironmentVariable("GAN_FUZZ_ONLY");
    private static readonly int Requests =
        int.TryParse(Environment.GetEnvironmentVariable("GAN_FUZZ_REQUESTS"), out var n) && n > 0
            ? n
            : RequestsPerEndpoint;

    [Fact]
    public async Task Every_endpoint_survives_a_thousand_hostile_requests_with_problem_documents_and_no_5xx()
    {
        var database = await postgres.CreateDatabaseAsync();
        var settings = AuthTests.AuthOn(
            ("Gan:Datasets:MaxUploadBytes", "262144"),
            ("Gan:RateLimits:SubmissionsPerMinute", "1000000"),
            ("Gan:RateLimits:UploadsPerMinute", "1000000"),
            ("Gan:RateLimits:SamplesPerSecond", "1000000")
        );
        Guid[] jobIds;
        Guid datasetId,
            keyId;
        await using (var trainer = new GanServiceFactory(database, settings: settings))
        {
            var admin = AuthTests.As(trainer, AuthTests.AdminKey);
            var jobs = new List<Guid>
            {
                (await trainer.SubmitAsync(admin, TestData.SyntheticJob(steps: 10, checkpointEvery: 10))).Id,
            };
            // Each control's family, small: conditional labels, BigGAN's truncation, StyleGAN's psi, noise and mixing.
            foreach (var family in new[] { "conditional-dcgan", "biggan", "progan", "stylegan" })
                jobs.Add(
                    (
                        await trainer.SubmitAsync(
                            admin,
                            new
                            {
                                dataset = "synthetic",
                                model = family == "conditional-dcgan"
                                    ? (object)new { family }
                                    : new { family, width = 8 },
                                training = new { steps = 10, batchSize = 4 },
                                checkpointEvery = 10,
                            }
                        )
                    ).Id
                );
            foreach (var id in jobs)
                await GanServiceFactory.WaitForStatusAsync(admin, id, Jobs.JobStatus.Succeeded);
            jobIds = [.. jobs];
            datasetId = (await DatasetUploadTests.Upload(admin, Inputs.Zip, "set.zip")).Id;
            await AuthTests.CreateKeyAsync(admin, "someone");
            keyId = (
                await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<List<Auth.KeyResponse>>(
                    admin,
                    "/api/keys",
                    GanServiceFactory.Json
                )
            )![0].Id;
        }

        // API role: no worker, so fuzzed jobs that happen to be valid stay queued instead of training.
        await using var service = new GanServiceFactory(database, role: "api", settings: settings);
        var endpoints = service
            .Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>()
            .ApiDescriptionGroups.Items.SelectMany(g => g.Items)
            .Select(d => new Endpoint(
                d.HttpMethod!,
                "/" + d.RelativePath!.TrimEnd('/'),
                d.ParameterDescriptions.Where(p => p.Source.Id == "Query").Select(p => p.Name).ToArray(),
                d.ParameterDescriptions.Any(p => p.Source.Id == "Body"),
                d.SupportedRequestFormats.Any(f => f.MediaType.StartsWith("multipart"))
            ))
            .Append(new Endpoint("GET", "/health/ready", [], false, false))
            .Append(new Endpoint("GET", "/health/live", [], false, false))
            .Where(e => Only is null || e.Path.StartsWith(Only, StringComparison.Ordinal))
            // Deletes last: a valid DELETE removes a job or dataset that the other endpoints' requests name.
            .OrderBy(e => e.Method == "DELETE")
            .ToList();
        Assert.True(Only is not null || endpoints.Count >= 22, $"only {endpoints.Count} endpoints found");
        var client = service.CreateClient();
        var ids = new Ids(jobIds, datasetId, keyId);
        var failures = new List<string>();
        int sent = 0;
        foreach (var endpoint in endpoints)
        {
            // string.GetHashCode differs from process to process; this one does not.
            var random = new Random(StableHash(endpoint.Method + " " + endpoint.Path) ^ Seed);
            for (int i = 0; i < Requests; i++)
            {
                using var request = Inputs.Request(endpoint, ids, random);
                var sentBody = request.Content is null ? "" : await request.Content.ReadAsStringAsync();
                var description =
                    $"#{i} {request.Method} {request.RequestUri} {request.Headers} "
                    + $"{request.Content?.Headers.ContentType}\n{Cut(sentBody)}";
                // An event stream that is accepted stays open by design: its answer is its headers.
                bool stream = endpoint.Path.EndsWith("/events", StringComparison.Ordinal);
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var response = await client.SendAsync(
                    request,
                    stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead,
                    patience.Token
                );
                sent++;
                bool open = stream && response.IsSuccessStatusCode;
                var body = open ? "" : await response.Content.ReadAsStringAsync(patience.Token);
                var problem =
                    open && response.Content.Headers.ContentType?.MediaType != "text/event-stream"
                        ? "an open stream that is not text/event-stream"
                        : Check(response, body);
                if (problem is not null && failures.Count < 20)
                    failures.Add($"{description}\n-> {(int)response.StatusCode}: {problem}\n{Cut(body)}");
            }
        }
        Assert.True(
            failures.Count == 0,
            $"{failures.Count} bad answers out of {sent} (seed {Seed}):\n"
                + string.Join("\n\n", failures)
                + "\n\nThe service logged:\n"
                + string.Join("\n", service.Errors.Entries)
        );
        Assert.True(sent >= Requests * endpoints.Count);
    }

    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
            hash = (hash ^ c) * 16777619;
        return (int)hash;
    }

    private static string Cut(string text) =>
        text.Length <= 600 ? text : text[..600] + $"... ({text.Length} characters)";

    private static string? Check(HttpResponseMessage response, string body)
    {
        int status = (int)response.StatusCode;
        if (status >= 500)
            return "a 5xx";
        foreach (var secret in new[] { AuthTests.AdminKey, "   at ", "StackTrace", "Npgsql", "Host=" })
            if (body.Contains(secret, StringComparison.Ordinal))
                return $"the body reveals '{secret}'";
        if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            return $"an error as {response.Content.Headers.ContentType?.MediaType ?? "no content type"}";
        return null;
    }
}
