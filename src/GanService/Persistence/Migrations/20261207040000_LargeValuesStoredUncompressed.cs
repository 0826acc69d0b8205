using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <summary>
    /// Checkpoint bundles and datasets stored out of line and uncompressed, the values already stored rewritten so:
    /// PostgreSQL fetches only the TOAST chunks a substring covers of such a value, where a compressed one is inflated
    /// from its start for every substring, so a preview's few hundred item reads cost many whole inflations
    /// (docs/reliability.md#budgets). Weights barely compress anyway.
    /// </summary>
    public partial class LargeValuesStoredUncompressed : Migration
    {
        private static readonly (string Table, string Column)[] Values =
        [
            ("checkpoints", "Bundle"),
            ("datasets", "Bytes"),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, column) in Values)
            {
                migrationBuilder.Sql($"""ALTER TABLE gan.{table} ALTER COLUMN "{column}" SET STORAGE EXTERNAL""");
                // A new value (the same bytes) is stored the column's new way; the old one keeps its compression.
                migrationBuilder.Sql(
                    $"""
                    UPDATE gan.{table} SET "{column}" = "{column}" || ''::bytea
                    WHERE pg_column_compression("{column}") IS NOT NULL
                    """
                );
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, column) in Values)
                migrationBuilder.Sql($"""ALTER TABLE gan.{table} ALTER COLUMN "{column}" SET STORAGE EXTENDED""");
        }
    }
}
