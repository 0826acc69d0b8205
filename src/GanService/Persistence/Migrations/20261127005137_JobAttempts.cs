using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class JobAttempts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "job_attempts",
                schema: "gan",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Number = table.Column<int>(type: "integer", nullable: false),
                    Worker = table.Column<string>(type: "text", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ResumedFromStep = table.Column<long>(type: "bigint", nullable: true),
                    LastStep = table.Column<long>(type: "bigint", nullable: false),
                    EndedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_job_attempts", x => new { x.JobId, x.Number });
                    table.ForeignKey(
                        name: "FK_job_attempts_training_jobs_JobId",
                        column: x => x.JobId,
                        principalSchema: "gan",
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade
                    );
                }
            );
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(name: "job_attempts", schema: "gan");
        }
    }
}
