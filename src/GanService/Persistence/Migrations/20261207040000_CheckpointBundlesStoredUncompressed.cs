using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <summary>
    /// Checkpoint bundles stored out of line and uncompressed: weights barely compress, and PostgreSQL fetches only
    /// the TOAST chunks a substring covers of such a value, where a compressed one is inflated from its start. Rows
    /// written before keep their storage and read the same, only slower (docs/reliability.md#budgets).
    /// </summary>
    public partial class CheckpointBundlesStoredUncompressed : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER TABLE gan.checkpoints ALTER COLUMN "Bundle" SET STORAGE EXTERNAL""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER TABLE gan.checkpoints ALTER COLUMN "Bundle" SET STORAGE EXTENDED""");
        }
    }
}
