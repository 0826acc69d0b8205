using GanService.Gan.Data.Import;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace GanService.Datasets;

/// <summary>
/// Reads a multipart dataset upload as a stream: file parts go to temporary files (counted against the upload
/// limit as they arrive, never held whole in memory), text parts become import options.
/// </summary>
public sealed class DatasetUpload : IAsyncDisposable
{
    public static readonly string[] DatasetParts = ["file", "images", "labels"];

    /// <summary>Characters of one text field, and text fields in one form: options are short, and few.</summary>
    public const int MaxFieldLength = 1000,
        MaxFields = 32;
    private readonly Dictionary<string, List<string>> files = new();
    private readonly Dictionary<string, string> fields = new(StringComparer.OrdinalIgnoreCase);
    private string? fileName;

    public IReadOnlyDictionary<string, string> Fields => fields;
    public string? FileName => fileName;

    public bool Has(string part) => files.ContainsKey(part);

    /// <summary>
    /// Every upload sent under a part name, in the order sent (IDX pairs and CIFAR batches may repeat).
    /// </summary>
    public List<Stream> OpenAll(string part) =>
        files.TryGetValue(part, out var paths) ? paths.Select(p => (Stream)File.OpenRead(p)).ToList() : [];

    public static Task<DatasetUpload> ReadAsync(HttpRequest request, long maxBytes, CancellationToken ct) =>
        ReadAsync(request, maxBytes, DatasetParts, ct);

    public static Task<DatasetUpload> ReadAsync(
        HttpRequest request,
        long maxBytes,
        IReadOnlyCollection<string> fileParts,
        CancellationToken ct
    ) => ReadAsync(request, maxBytes, fileParts, new ImportLimits().MaxParts, ct);

    /// <summary>
    /// Reads the form, accepting file parts only under <paramref name="fileParts"/>, at most
    /// <paramref name="maxParts"/> under each name. Every byte of the body, text fields included, counts toward
    /// <paramref name="maxBytes"/>.
    /// </summary>
    public static async Task<DatasetUpload> ReadAsync(
        HttpRequest request,
        long maxBytes,
        IReadOnlyCollection<string> fileParts,
        int maxParts,
        CancellationToken ct
    )
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = maxBytes;
        if (
            !MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary
        )
            throw new DatasetImportException("Send the upload as multipart/form-data.", "body");

        var upload = new DatasetUpload();
        try
        {
            var reader = new MultipartReader(boundary, request.Body);
            long total = 0;
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                    continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition())
                {
                    if (!fileParts.Contains(name))
                        throw new DatasetImportException(
                            $"Unexpected file part '{name}'; send {string.Join(" or ", fileParts)}.",
                            name
                        );
                    var path = Path.Combine(Path.GetTempPath(), $"ganservice-upload-{Guid.NewGuid():N}");
                    if (!upload.files.TryGetValue(name, out var list))
                        upload.files[name] = list = [];
                    if (list.Count >= maxParts)
                        throw new DatasetImportException(
                            $"More than {maxParts} files were sent as '{name}'; the limit is {maxParts}.",
                            name,
                            tooLarge: true
                        );
                    list.Add(path);
                    upload.fileName ??= HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    total += await CopyBoundedAsync(section.Body, path, maxBytes - total, maxBytes, ct);
                }
                else
                {
                    if (upload.fields.Count >= MaxFields && !upload.fields.ContainsKey(name))
                        throw new DatasetImportException($"The form has more than {MaxFields} text fields.", name);
                    var (value, read) = await ReadFieldAsync(section.Body, name, maxBytes - total, maxBytes, ct);
                    total += read;
                    upload.fields[name] = value.Trim();
                }
            }
        }
        catch (InvalidDataException e)
        {
            // The multipart parser's own words (a limit, a malformed boundary): they name no server detail.
            await upload.DisposeAsync();
            throw new DatasetImportException($"The upload is not valid multipart: {e.Message}", "body");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The server's own body limit (the same bound) can trip first: the multipart framing counts there too.
            await upload.DisposeAsync();
            throw TooLarge(maxBytes);
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            // An I/O message may carry a temporary file's path, so the answer says only what happened.
            await upload.DisposeAsync();
            throw new DatasetImportException("The upload was cut short before its end.", "body");
        }
        catch
        {
            await upload.DisposeAsync();
            throw;
        }
        return upload;
    }

    /// <summary>A text field read with a bound, so that a long one is refused without being held whole.</summary>
    private static async Task<(string Value, long Bytes)> ReadFieldAsync(
        Stream body,
        string name,
        long remaining,
        long maxBytes,
        CancellationToken ct
    )
    {
        // UTF-8 takes at most 4 bytes a character, and a byte-order mark 3.
        const int MaxFieldBytes = 4 * MaxFieldLength + 3;
        var buffer = new byte[MaxFieldBytes + 1];
        int length = 0,
            n;
        while (length < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
        {
            length += n;
            if (length > remaining)
                throw TooLarge(maxBytes);
        }
        if (length > MaxFieldBytes)
            throw new DatasetImportException($"The field '{name}' is too long.", name);
        using var text = new StreamReader(new MemoryStream(buffer, 0, length));
        var value = await text.ReadToEndAsync(ct);
        if (value.Length > MaxFieldLength)
            throw new DatasetImportException($"The field '{name}' is too long.", name);
        return (value, length);
    }

    private static DatasetImportException TooLarge(long maxBytes) =>
        new($"The upload is larger than {maxBytes} bytes.", "file", tooLarge: true);

    private static async Task<long> CopyBoundedAsync(
        Stream source,
        string path,
        long remaining,
        long maxBytes,
        CancellationToken ct
    )
    {
        await using var target = new FileStream(
            path,
            FileMode.CreateNew,
            FileAccess.Write,
            FileShare.None,
            81920,
            useAsync: true
        );
        var buffer = new byte[81920];
        long written = 0;
        int n;
        while ((n = await source.ReadAsync(buffer, ct)) > 0)
        {
            written += n;
            if (written > remaining)
                throw TooLarge(maxBytes);
            await target.WriteAsync(buffer.AsMemory(0, n), ct);
        }
        return written;
    }

    /// <summary>
    /// SHA-256 over every field and every file's bytes: equal for the same request, for idempotency keys.
    /// </summary>
    public string Fingerprint()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(
            System.Security.Cryptography.HashAlgorithmName.SHA256
        );
        foreach (var (name, value) in fields.OrderBy(f => f.Key, StringComparer.OrdinalIgnoreCase))
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"field:{name.ToLowerInvariant()}={value}\n"));
        foreach (var (part, paths) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        foreach (var path in paths)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"file:{part}\n"));
            using var stream = File.OpenRead(path);
            var buffer = new byte[81920];
            int n;
            while ((n = stream.Read(buffer)) > 0)
                hash.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public ValueTask DisposeAsync()
    {
        foreach (var path in files.Values.SelectMany(p => p))
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException) { } // best effort: the temp folder is cleaned anyway
        }
        return ValueTask.CompletedTask;
    }
}
