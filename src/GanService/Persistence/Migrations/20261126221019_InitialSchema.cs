using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(name: "gan");

            migrationBuilder.CreateTable(
                name: "training_jobs",
                schema: "gan",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Owner = table.Column<string>(type: "text", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Recipe = table.Column<string>(type: "jsonb", nullable: false),
                    Dataset = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Seed = table.Column<long>(type: "bigint", nullable: false),
                    Step = table.Column<long>(type: "bigint", nullable: false),
                    TotalSteps = table.Column<long>(type: "bigint", nullable: false),
                    Device = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    Queue = table.Column<string>(type: "text", nullable: true),
                    HangfireJobId = table.Column<string>(type: "text", nullable: true),
                    Worker = table.Column<string>(type: "text", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    CancelRequested = table.Column<bool>(type: "boolean", nullable: false),
                    Error = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DiscriminatorLoss = table.Column<double>(type: "double precision", nullable: true),
                    GeneratorLoss = table.Column<double>(type: "double precision", nullable: true),
                    RealScore = table.Column<double>(type: "double precision", nullable: true),
                    FakeScore = table.Column<double>(type: "double precision", nullable: true),
                    ImagesPerSecond = table.Column<double>(type: "double precision", nullable: true),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_jobs", x => x.Id);
                }
            );

            migrationBuilder.CreateTable(
                name: "checkpoints",
                schema: "gan",
                columns: table => new
                {
                    Id = table
                        .Column<long>(type: "bigint", nullable: false)
                        .Annotation(
                            "Npgsql:ValueGenerationStrategy",
                            NpgsqlValueGenerationStrategy.IdentityByDefaultColumn
                        ),
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Step = table.Column<long>(type: "bigint", nullable: false),
                    Attempt = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Bundle = table.Column<byte[]>(type: "bytea", nullable: false),
                    PreviewPng = table.Column<byte[]>(type: "bytea", nullable: false),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_checkpoints", x => x.Id);
                    table.ForeignKey(
                        name: "FK_checkpoints_training_jobs_JobId",
                        column: x => x.JobId,
                        principalSchema: "gan",
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade
                    );
                }
            );

            migrationBuilder.CreateTable(
                name: "training_metrics",
                schema: "gan",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Step = table.Column<long>(type: "bigint", nullable: false),
                    Epoch = table.Column<long>(type: "bigint", nullable: false),
                    DiscriminatorLoss = table.Column<double>(type: "double precision", nullable: false),
                    GeneratorLoss = table.Column<double>(type: "double precision", nullable: false),
                    RealScore = table.Column<double>(type: "double precision", nullable: false),
                    FakeScore = table.Column<double>(type: "double precision", nullable: false),
                    ImagesPerSecond = table.Column<double>(type: "double precision", nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_metrics", x => new { x.JobId, x.Step });
                    table.ForeignKey(
                        name: "FK_training_metrics_training_jobs_JobId",
                        column: x => x.JobId,
                        principalSchema: "gan",
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade
                    );
                }
            );

            migrationBuilder.CreateIndex(
                name: "IX_checkpoints_JobId_Step",
                schema: "gan",
                table: "checkpoints",
                columns: new[] { "JobId", "Step" },
                unique: true
            );

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_CreatedAt",
                schema: "gan",
                table: "training_jobs",
                column: "CreatedAt"
            );

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_Status_CreatedAt",
                schema: "gan",
                table: "training_jobs",
                columns: new[] { "Status", "CreatedAt" }
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "checkpoints", schema: "gan");

            migrationBuilder.DropTable(name: "training_metrics", schema: "gan");

            migrationBuilder.DropTable(name: "training_jobs", schema: "gan");
        }
    }
}
