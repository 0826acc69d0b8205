using System.Text;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// The fuzz test's requests: every endpoint's routes, queries, JSON and multipart bodies, filled with boundary,
/// random and malformed values from one seeded generator so that a failing run can be replayed.
/// </summary>
public sealed partial class FuzzTests
{
    private sealed record Endpoint(string Method, string Path, string[] Query, bool JsonBody, bool Multipart);

    /// <summary>Real ids to aim at: one trained job of each noise-to-image family, so that every sampling control
    /// meets a generator that reads it.</summary>
    private sealed record Ids(Guid[] Jobs, Guid Dataset, Guid Key)
    {
        public Guid Job(Random random) => Jobs[random.Next(Jobs.Length)];
    }

    /// <summary>The generators of hostile input.</summary>
    private static class Inputs
    {
        public static readonly byte[] Png = UploadFiles.Png(16, 16, new Rgb24(200, 10, 10));
        public static readonly byte[] Zip = UploadFiles.Zip(
            ("a.png", Png),
            ("b.png", UploadFiles.Png(16, 16, new Rgb24(10, 10, 200)))
        );

        private static readonly string[] Strings =
        [
            "",
            " ",
            "0",
            "-1",
            "1",
            "2",
            "3",
            "16",
            "28",
            "64",
            "256",
            "257",
            "100000",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775807",
            "9223372036854775808",
            "99999999999999999999999",
            "1e309",
            "-1e309",
            "1e-400",
            "0.5",
            "-0.0",
            "NaN",
            "Infinity",
            "-Infinity",
            "nan",
            "true",
            "false",
            "null",
            "[]",
            "{}",
            "abc",
            "AtoB",
            "BtoA",
            "dcgan",
            "mnist",
            "synthetic",
            "0,1,2",
            "1,,2",
            "-3",
            "Running",
            "Succeeded",
            "'; DROP TABLE gan.training_jobs; --",
            "../../etc/passwd",
            "%00",
            "\u0000",
            "ü漢字💥",
            "\u202Ezyx",
            "<script>alert(1)</script>",
            new string('9', 400),
            new string('x', 5000),
            "00000000-0000-0000-0000-000000000000",
            Guid.NewGuid().ToString(),
            // The sampling controls' edges: BigGAN's truncation floor and ceiling, StyleGAN's psi, noise and mixing.
            "1e-30",
            "0.04",
            "0.039",
            "4",
            "4.0001",
            "2.0001",
            "-0.5",
            "1e-300",
            "random",
            "const",
            "7",
            "1,2,3,4,5,6,7,8,9",
        ];

        public static HttpRequestMessage Request(Endpoint endpoint, Ids ids, Random random)
        {
            var path = Route(endpoint.Path, ids, random);
            var query = endpoint
                .Query.Concat(["unknown", "count", "seed"])
                .Where(_ => random.Next(3) > 0)
                .Select(name => $"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(Pick(random))}");
            var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), path + "?" + string.Join('&', query));
            switch (random.Next(20))
            {
                case 0:
                    break; // no key
                case 1:
                    request.Headers.TryAddWithoutValidation(
                        "X-Api-Key",
                        "gsk_" + Pick(random).Where(c => c is > ' ' and < '~').Aggregate("", (s, c) => s + c)
                    );
                    break;
                default:
                    request.Headers.TryAddWithoutValidation("X-Api-Key", AuthTests.AdminKey);
                    break;
            }
            if (random.Next(8) == 0)
                request.Headers.TryAddWithoutValidation(
                    "Idempotency-Key",
                    random.Next(2) == 0 ? new string('k', 300) : $"fuzz-{random.Next(5)}"
                );
            if (random.Next(10) == 0)
                request.Headers.TryAddWithoutValidation(
                    "If-None-Match",
                    random.Next(2) == 0 ? "*" : "\"" + Pick(random).Replace("\"", "") + "\""
                );
            if (endpoint.JsonBody)
                request.Content = JsonBody(endpoint.Path, random);
            else if (endpoint.Multipart)
                request.Content = Multipart(random);
            else if (random.Next(10) == 0)
                request.Content = new StringContent(Pick(random), Encoding.UTF8, "application/json");
            return request;
        }

        private static string Route(string template, Ids ids, Random random)
        {
            var path = template;
            foreach (var name in new[] { "{id}", "{jobId}" })
                if (path.Contains(name))
                {
                    var real =
                        path.StartsWith("/api/datasets") ? ids.Dataset
                        : path.StartsWith("/api/keys") ? ids.Key
                        : ids.Job(random);
                    path = path.Replace(
                        name,
                        random.Next(10) switch
                        {
                            < 6 => real.ToString(),
                            6 => Guid.NewGuid().ToString(),
                            7 => Guid.Empty.ToString(),
                            _ => PathValue(random),
                        }
                    );
                }
            if (path.Contains("{step}"))
                path = path.Replace("{step}", random.Next(3) == 0 ? "10" : PathValue(random));
            return path;
        }

        /// <summary>
        /// A hostile path segment. An encoded NUL is left out: the test server throws on it in the client, before the
        /// request exists, and Kestrel refuses it with a 400 of its own.
        /// </summary>
        private static string PathValue(Random random) => Uri.EscapeDataString(Pick(random).Replace("\0", "?"));

        private static HttpContent JsonBody(string path, Random random)
        {
            JsonNode body = path switch
            {
                "/api/jobs" => JsonNode.Parse(
                    """{"name":"f","dataset":"synthetic","model":"""
                        + """{"family":"dcgan","imageSize":28,"channels":1,"latentSize":"""
                        + """100,"normalization":"batch"},"training":"""
                        + """{"steps":5,"batchSize":8,"learningRate":0.0002,"beta1":0.5,"loss":"bce","criticSteps":"""
                        + """1,"gradientPenalty":0,"r1":0,"ema":0,"augment":"","l1":100},"checkpointEvery":"""
                        + """5,"seed":1,"device":"cpu","public":false}"""
                )!,
                "/api/keys" => JsonNode.Parse("""{"owner":"fuzz","name":"fuzzing"}""")!,
                _ => JsonNode.Parse("""{"public":true}""")!,
            };
            int mutations = random.Next(1, 4);
            for (int m = 0; m < mutations; m++)
                Mutate(body, random);
            var text = body.ToJsonString();
            return random.Next(12) switch
            {
                // cut short
                0 => new StringContent(text[..random.Next(text.Length)], Encoding.UTF8, "application/json"),
                1 => new StringContent(text, Encoding.UTF8, "text/plain"),
                2 => new StringContent(new string('[', 200) + new string(']', 200), Encoding.UTF8, "application/json"),
                3 => new StringContent(
                    "{\"name\":\"" + new string('n', 1_100_000) + "\"}",
                    Encoding.UTF8,
                    "application/json"
                ),
                4 => new StringContent("", Encoding.UTF8, "application/json"),
                _ => new StringContent(text, Encoding.UTF8, "application/json"),
            };
        }

        /// <summary>Replaces, removes or adds one member somewhere in the document.</summary>
        private static void Mutate(JsonNode node, Random random)
        {
            while (
                node is JsonObject obj
                && obj.Count > 0
                && random.Next(3) == 0
                && obj.ElementAt(random.Next(obj.Count)).Value is JsonObject inner
            )
                node = inner;
            if (node is not JsonObject target)
                return;
            var keys = target.Select(p => p.Key).ToList();
            switch (random.Next(4))
            {
                case 0 when keys.Count > 0:
                    target.Remove(keys[random.Next(keys.Count)]);
                    break;
                case 1:
                    target[Pick(random)] = Value(random);
                    break;
                default:
                    if (keys.Count > 0)
                        target[keys[random.Next(keys.Count)]] = Value(random);
                    break;
            }
        }

        private static JsonNode? Value(Random random) =>
            random.Next(9) switch
            {
                0 => null,
                1 => JsonValue.Create(random.Next(2) == 0),
                2 => JsonValue.Create(new[] { 0, -1, 1, int.MaxValue, int.MinValue, 3, 64, 257 }[random.Next(8)]),
                3 => JsonValue.Create(new[] { long.MaxValue, long.MinValue, 1L << 40 }[random.Next(3)]),
                4 => JsonValue.Create(new[] { 1e308, -1e308, 5e-324, 0.0002, 1.5, -0.0 }[random.Next(6)]),
                5 => new JsonArray(JsonValue.Create(1), JsonValue.Create("a"), null),
                6 => new JsonObject { ["nested"] = new JsonObject { ["deeper"] = Pick(random) } },
                _ => JsonValue.Create(Pick(random)),
            };

        private static HttpContent Multipart(Random random)
        {
            if (random.Next(10) == 0)
                return new StringContent(
                    Pick(random),
                    Encoding.UTF8,
                    random.Next(2) == 0 ? "multipart/form-data" : "application/octet-stream"
                );
            var form = new MultipartFormDataContent();
            int parts = random.Next(0, 5);
            for (int p = 0; p < parts; p++)
            {
                var name = new[]
                {
                    "file",
                    "images",
                    "labels",
                    "image",
                    "format",
                    "imageSize",
                    "channels",
                    "maxItems",
                    "fit",
                    "layout",
                    "skipInvalid",
                    "name",
                    "ü💥",
                }[random.Next(13)];
                if (random.Next(2) == 0)
                {
                    byte[] bytes = random.Next(6) switch
                    {
                        0 => Png,
                        1 => Zip,
                        2 => new byte[300_000], // over the 256 KiB limit
                        3 => Zip[..random.Next(Zip.Length)],
                        _ => RandomBytes(random, random.Next(0, 4096)),
                    };
                    form.Add(new ByteArrayContent(bytes), name, random.Next(3) == 0 ? Pick(random) : "upload.zip");
                }
                else
                    form.Add(new StringContent(Pick(random)), name);
            }
            return form;
        }

        private static byte[] RandomBytes(Random random, int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        private static string Pick(Random random) => Strings[random.Next(Strings.Length)];
    }
}
