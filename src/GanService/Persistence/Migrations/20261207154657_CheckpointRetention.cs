using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CheckpointRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Pinned",
                schema: "gan",
                table: "checkpoints",
                type: "boolean",
                nullable: false,
                defaultValue: false
            );
            // Retention deletes whole bundles, thousands of TOAST chunks each: autovacuum should free them after a
            // few megabytes of dead chunks rather than a fifth of the table (the service also VACUUMs after
            // pruning; this is the backstop for when it cannot).
            migrationBuilder.Sql(
                """
                ALTER TABLE gan.checkpoints SET (
                    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 50,
                    toast.autovacuum_vacuum_scale_factor = 0, toast.autovacuum_vacuum_threshold = 5000)
                """
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                ALTER TABLE gan.checkpoints RESET (
                    autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
                    toast.autovacuum_vacuum_scale_factor, toast.autovacuum_vacuum_threshold)
                """
            );
            migrationBuilder.DropColumn(name: "Pinned", schema: "gan", table: "checkpoints");
        }
    }
}
