using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Datasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DatasetSha256",
                schema: "gan",
                table: "training_jobs",
                type: "text",
                nullable: true
            );

            migrationBuilder.CreateTable(
                name: "datasets",
                schema: "gan",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Format = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ImageSize = table.Column<int>(type: "integer", nullable: false),
                    Channels = table.Column<int>(type: "integer", nullable: false),
                    ItemCount = table.Column<int>(type: "integer", nullable: false),
                    ItemCountB = table.Column<int>(type: "integer", nullable: false),
                    Classes = table.Column<string>(type: "jsonb", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: false),
                    Bytes = table.Column<byte[]>(type: "bytea", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datasets", x => x.Id);
                }
            );

            migrationBuilder.CreateIndex(
                name: "IX_datasets_CreatedAt",
                schema: "gan",
                table: "datasets",
                column: "CreatedAt"
            );

            migrationBuilder.CreateIndex(
                name: "IX_datasets_Sha256",
                schema: "gan",
                table: "datasets",
                column: "Sha256",
                unique: true
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "datasets", schema: "gan");

            migrationBuilder.DropColumn(name: "DatasetSha256", schema: "gan", table: "training_jobs");
        }
    }
}
