using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <summary>
    /// Evaluations of checkpoints, the real statistics they are scored against (one row per dataset, domain, shape
    /// and feature network), and each job's best checkpoint and early-stop reason.
    /// </summary>
    public partial class Evaluations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "BestFd",
                schema: "gan",
                table: "training_jobs",
                type: "double precision",
                nullable: true
            );

            migrationBuilder.AddColumn<long>(
                name: "BestStep",
                schema: "gan",
                table: "training_jobs",
                type: "bigint",
                nullable: true
            );

            migrationBuilder.AddColumn<string>(
                name: "StopReason",
                schema: "gan",
                table: "training_jobs",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true
            );

            migrationBuilder.CreateTable(
                name: "evaluations",
                schema: "gan",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Step = table.Column<long>(type: "bigint", nullable: false),
                    Samples = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Requested = table.Column<bool>(type: "boolean", nullable: false),
                    HangfireJobId = table.Column<string>(type: "text", nullable: true),
                    Network = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Side = table.Column<int>(type: "integer", nullable: false),
                    Fd = table.Column<double>(type: "double precision", nullable: true),
                    Kid = table.Column<double>(type: "double precision", nullable: true),
                    KidStd = table.Column<double>(type: "double precision", nullable: true),
                    Precision = table.Column<double>(type: "double precision", nullable: true),
                    Recall = table.Column<double>(type: "double precision", nullable: true),
                    DuplicateShare = table.Column<double>(type: "double precision", nullable: true),
                    L1 = table.Column<double>(type: "double precision", nullable: true),
                    Psnr = table.Column<double>(type: "double precision", nullable: true),
                    Seconds = table.Column<double>(type: "double precision", nullable: true),
                    Error = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_evaluations", x => new
                    {
                        x.JobId,
                        x.Step,
                        x.Samples,
                    });
                    table.ForeignKey(
                        name: "FK_evaluations_training_jobs_JobId",
                        column: x => x.JobId,
                        principalSchema: "gan",
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade
                    );
                }
            );

            migrationBuilder.CreateTable(
                name: "real_statistics",
                schema: "gan",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    DatasetSha256 = table.Column<string>(
                        type: "character varying(200)",
                        maxLength: 200,
                        nullable: false
                    ),
                    Domain = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    ImageSize = table.Column<int>(type: "integer", nullable: false),
                    Channels = table.Column<int>(type: "integer", nullable: false),
                    Network = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Side = table.Column<int>(type: "integer", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false),
                    Seconds = table.Column<double>(type: "double precision", nullable: false),
                    Statistics = table.Column<byte[]>(type: "bytea", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_real_statistics", x => x.Key);
                }
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "evaluations", schema: "gan");

            migrationBuilder.DropTable(name: "real_statistics", schema: "gan");

            migrationBuilder.DropColumn(name: "BestFd", schema: "gan", table: "training_jobs");

            migrationBuilder.DropColumn(name: "BestStep", schema: "gan", table: "training_jobs");

            migrationBuilder.DropColumn(name: "StopReason", schema: "gan", table: "training_jobs");
        }
    }
}
