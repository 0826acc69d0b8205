using System.Net;
using GanService.Gan.Checkpoints;
using GanService.Jobs;

namespace GanService.Tests;

/// <summary>How sampled images are cached: a strong ETag on seeded ones, none on unseeded, damage refused.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SampleCachingTests(PostgresServer postgres, BuiltOnce<SampleCachingTests.SampleAnswers> answers)
    : IClassFixture<BuiltOnce<SampleCachingTests.SampleAnswers>>
{
    /// <summary>
    /// A seeded image, then the same revalidated with its ETag; an unseeded image, then the one its X-Seed names; then,
    /// after the checkpoint is damaged in storage, the entries that fail verification and a seeded image from a host
    /// with nothing cached yet, and its export.
    /// </summary>
    public sealed record SampleAnswers(
        HttpResponseMessage Seeded,
        HttpResponseMessage Revalidated,
        HttpResponseMessage Unseeded,
        byte[]? Reseeded,
        int DamagedRows,
        IReadOnlyList<string> DamagedEntries,
        HttpStatusCode AfterDamage,
        HttpStatusCode ExportAfterDamage
    ) : IDisposable
    {
        public static async Task<SampleAnswers> AskAsync(PostgresServer postgres)
        {
            await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
            using var client = service.CreateClient();
            var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 10, checkpointEvery: 10));
            await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);

            var url = $"/api/generators/{job.Id}/image.png?seed=7&step=10";
            var seeded = await client.GetAsync(url);
            using var revalidate = new HttpRequestMessage(HttpMethod.Get, url);
            if (seeded.Headers.ETag is { } etag)
                revalidate.Headers.IfNoneMatch.Add(etag);
            var revalidated = await client.SendAsync(revalidate);
            var unseeded = await client.GetAsync($"/api/generators/{job.Id}/image.png");
            byte[]? reseeded = unseeded.Headers.TryGetValues("X-Seed", out var seed)
                ? await client.GetByteArrayAsync($"/api/generators/{job.Id}/image.png?seed={long.Parse(seed.Single())}")
                : null;

            int damaged;
            IReadOnlyList<string> entries;
            await using (var connection = new Npgsql.NpgsqlConnection(service.ConnectionString))
            {
                await connection.OpenAsync();
                await using var damage = new Npgsql.NpgsqlCommand(
                    "UPDATE gan.checkpoints SET \"Bundle\" = overlay("
                        + $"\"Bundle\" placing '\\x00ff00'::bytea from 200) WHERE \"JobId\" = '{job.Id}'",
                    connection
                );
                damaged = await damage.ExecuteNonQueryAsync();
                await using var read = new Npgsql.NpgsqlCommand(
                    $"SELECT \"Bundle\" FROM gan.checkpoints WHERE \"JobId\" = '{job.Id}'",
                    connection
                );
                entries = FailingEntries((byte[])(await read.ExecuteScalarAsync())!);
            }
            await using var fresh = new GanServiceFactory(service.ConnectionString, role: "api"); // nothing cached yet
            using var freshClient = fresh.CreateClient();
            var afterDamage = await freshClient.GetAsync($"/api/generators/{job.Id}/image.png?seed=8&step=10");
            var export = await freshClient.GetAsync($"/api/generators/{job.Id}/export.zip?step=10");
            return new SampleAnswers(
                seeded,
                revalidated,
                unseeded,
                reseeded,
                damaged,
                entries,
                afterDamage.StatusCode,
                export.StatusCode
            );
        }

        private static List<string> FailingEntries(byte[] bundle)
        {
            using var reader = CheckpointBundle.Open(bundle);
            return reader
                .Manifest.Entries.Keys.Where(name =>
                    Record.Exception(() => reader.Entry(name).Dispose()) is CorruptCheckpointException
                )
                .ToList();
        }

        public void Dispose()
        {
            Seeded.Dispose();
            Revalidated.Dispose();
            Unseeded.Dispose();
        }
    }

    private Task<SampleAnswers> AnswersAsync() => answers.GetAsync(() => SampleAnswers.AskAsync(postgres));

    [Fact]
    public async Task A_seeded_image_is_immutable_under_a_strong_etag()
    {
        var first = (await AnswersAsync()).Seeded;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(first.Headers.ETag!.IsWeak);
        Assert.Contains("immutable", first.Headers.CacheControl!.ToString());
        using (var image = TestData.DecodePng(await first.Content.ReadAsByteArrayAsync()))
            Assert.Equal((28, 28), (image.Width, image.Height));
    }

    [Fact]
    public async Task A_seeded_image_revalidates_with_a_304()
    {
        Assert.Equal(HttpStatusCode.NotModified, (await AnswersAsync()).Revalidated.StatusCode);
    }

    [Fact]
    public async Task An_unseeded_image_is_not_stored_but_names_the_seed_that_repeats_it()
    {
        var answered = await AnswersAsync();
        var unseeded = answered.Unseeded;
        Assert.Equal(HttpStatusCode.OK, unseeded.StatusCode);
        Assert.True(unseeded.Headers.CacheControl!.NoStore);
        Assert.Equal(await unseeded.Content.ReadAsByteArrayAsync(), answered.Reseeded);
    }

    [Fact]
    public async Task A_checkpoint_damaged_in_storage_is_refused_with_a_409_not_a_500()
    {
        var answered = await AnswersAsync();
        Assert.Equal(1, answered.DamagedRows);
        // The damage lies in the one entry sampling reads: a generator's load checks that entry, not the bundle.
        Assert.Equal([CheckpointEntries.Generator], answered.DamagedEntries);
        Assert.Equal(HttpStatusCode.Conflict, answered.AfterDamage);
        Assert.Equal(HttpStatusCode.Conflict, answered.ExportAfterDamage);
    }
}
