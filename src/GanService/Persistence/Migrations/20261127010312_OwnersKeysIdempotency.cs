using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class OwnersKeysIdempotency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(name: "IX_datasets_Sha256", schema: "gan", table: "datasets");

            migrationBuilder.AlterColumn<string>(
                name: "Owner",
                schema: "gan",
                table: "training_jobs",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text",
                oldNullable: true
            );

            migrationBuilder.AddColumn<bool>(
                name: "Public",
                schema: "gan",
                table: "training_jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false
            );

            migrationBuilder.AddColumn<string>(
                name: "Owner",
                schema: "gan",
                table: "datasets",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true
            );

            migrationBuilder.CreateTable(
                name: "api_keys",
                schema: "gan",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Owner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Prefix = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.Id);
                }
            );

            migrationBuilder.CreateTable(
                name: "idempotency_keys",
                schema: "gan",
                columns: table => new
                {
                    Owner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Operation = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    RequestHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ResourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    StatusCode = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_idempotency_keys", x => new
                    {
                        x.Owner,
                        x.Operation,
                        x.Key,
                    });
                }
            );

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_Owner_CreatedAt",
                schema: "gan",
                table: "training_jobs",
                columns: new[] { "Owner", "CreatedAt" }
            );

            migrationBuilder.CreateIndex(
                name: "IX_datasets_Owner_Sha256",
                schema: "gan",
                table: "datasets",
                columns: new[] { "Owner", "Sha256" },
                unique: true
            );

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_Hash",
                schema: "gan",
                table: "api_keys",
                column: "Hash",
                unique: true
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "api_keys", schema: "gan");

            migrationBuilder.DropTable(name: "idempotency_keys", schema: "gan");

            migrationBuilder.DropIndex(name: "IX_training_jobs_Owner_CreatedAt", schema: "gan", table: "training_jobs");

            migrationBuilder.DropIndex(name: "IX_datasets_Owner_Sha256", schema: "gan", table: "datasets");

            migrationBuilder.DropColumn(name: "Public", schema: "gan", table: "training_jobs");

            migrationBuilder.DropColumn(name: "Owner", schema: "gan", table: "datasets");

            migrationBuilder.AlterColumn<string>(
                name: "Owner",
                schema: "gan",
                table: "training_jobs",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(100)",
                oldMaxLength: 100,
                oldNullable: true
            );

            migrationBuilder.CreateIndex(
                name: "IX_datasets_Sha256",
                schema: "gan",
                table: "datasets",
                column: "Sha256",
                unique: true
            );
        }
    }
}
