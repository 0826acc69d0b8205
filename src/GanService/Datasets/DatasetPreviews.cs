using GanService.Gan.Data;
using GanService.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace GanService.Datasets;

/// <summary>
/// A dataset's preview grid from its header and the picked items alone, read from PostgreSQL by range: a stored
/// dataset may be near 1 GB, and a preview shows at most 256 items of it (docs/reliability.md, "Budgets").
/// </summary>
public static class DatasetPreviews
{
    /// <summary>Enough for any header but one with thousands of long class names, which is then read again.</summary>
    private const int HeaderGuess = 16 << 10;

    /// <summary>
    /// The preview PNG of dataset <paramref name="id"/>, whose row the caller has found and may see; null when the
    /// row was deleted meanwhile.
    /// </summary>
    public static async Task<byte[]?> RenderAsync(GanDbContext db, Guid id, int count, long seed, CancellationToken ct)
    {
        if (await ReadAsync(db, id, [0], HeaderGuess, ct) is not [var prefix])
            return null;
        var header = StoredDataset.ReadHeader(prefix, out int pixelsAt);
        if (header is null && await ReadAsync(db, id, [0], pixelsAt, ct) is [var longer])
            header = StoredDataset.ReadHeader(longer, out pixelsAt);
        if (header is null)
            return null;
        var picks = DatasetPreview.Pick(header, count, seed);
        var a = await ItemsAsync(picks.A, domainB: false);
        var b = await ItemsAsync(picks.B, domainB: true);
        return a is null || b is null ? null : DatasetPreview.Render(header, a, b);

        async Task<byte[]?> ItemsAsync(long[] indices, bool domainB)
        {
            var offsets = indices.Select(i => header.ItemOffset(pixelsAt, domainB, i)).ToArray();
            var items = await ReadAsync(db, id, offsets, header.ItemBytes, ct);
            if (items.Count != offsets.Length)
                return null;
            var joined = new byte[items.Count * header.ItemBytes];
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i].Length != header.ItemBytes)
                    throw new InvalidDataException($"The stored dataset {id} is truncated.");
                items[i].CopyTo(joined, i * header.ItemBytes);
            }
            return joined;
        }
    }

    /// <summary>
    /// <paramref name="length"/> bytes at each of <paramref name="offsets"/> of the row's <c>Bytes</c>, in one round
    /// trip; a range past the end comes back short, and none come back once the row is gone.
    /// </summary>
    private static async Task<List<byte[]>> ReadAsync(
        GanDbContext db,
        Guid id,
        long[] offsets,
        int length,
        CancellationToken ct
    )
    {
        var ranges = new List<byte[]>(offsets.Length);
        if (offsets.Length == 0)
            return ranges;
        return await db.WithConnectionAsync(
            async connection =>
            {
                // substring counts from 1; a stored dataset is under 1 GB, so every offset fits an int.
                await using var command = new NpgsqlCommand(
                    $"""
                    SELECT substring(d."Bytes" from o.at::int + 1 for @length)
                    FROM {GanDbContext.Schema}.datasets d, unnest(@offsets) WITH ORDINALITY AS o(at, i)
                    WHERE d."Id" = @id ORDER BY o.i
                    """,
                    connection
                );
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("length", length);
                command.Parameters.Add(
                    new NpgsqlParameter("offsets", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = offsets }
                );
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    ranges.Add((byte[])reader[0]);
                return ranges;
            },
            ct
        );
    }
}
