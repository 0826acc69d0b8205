using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class GrowthStage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "Alpha",
                schema: "gan",
                table: "training_metrics",
                type: "double precision",
                nullable: true
            );

            migrationBuilder.AddColumn<int>(
                name: "Resolution",
                schema: "gan",
                table: "training_metrics",
                type: "integer",
                nullable: true
            );

            migrationBuilder.AddColumn<double>(
                name: "Alpha",
                schema: "gan",
                table: "training_jobs",
                type: "double precision",
                nullable: true
            );

            migrationBuilder.AddColumn<int>(
                name: "Resolution",
                schema: "gan",
                table: "training_jobs",
                type: "integer",
                nullable: true
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(name: "Alpha", schema: "gan", table: "training_metrics");

            migrationBuilder.DropColumn(name: "Resolution", schema: "gan", table: "training_metrics");

            migrationBuilder.DropColumn(name: "Alpha", schema: "gan", table: "training_jobs");

            migrationBuilder.DropColumn(name: "Resolution", schema: "gan", table: "training_jobs");
        }
    }
}
