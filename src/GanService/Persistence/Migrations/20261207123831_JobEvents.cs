using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace GanService.Persistence.Migrations
{
    /// <summary>
    /// Job events for live streams: a table the triggers below fill in the transaction of each change they report,
    /// and a notification on channel gan_events as it commits ('e,ID' for a stored event, 'p,JOB' for progress,
    /// which is not stored).
    /// </summary>
    public partial class JobEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "job_events",
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
                    Owner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Step = table.Column<long>(type: "bigint", nullable: true),
                    Samples = table.Column<int>(type: "integer", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(
                        type: "timestamp with time zone",
                        nullable: false,
                        defaultValueSql: "now()"
                    ),
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_job_events", x => x.Id);
                    table.ForeignKey(
                        name: "FK_job_events_training_jobs_JobId",
                        column: x => x.JobId,
                        principalSchema: "gan",
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade
                    );
                }
            );

            migrationBuilder.CreateIndex(
                name: "IX_job_events_JobId_Id",
                schema: "gan",
                table: "job_events",
                columns: new[] { "JobId", "Id" }
            );

            migrationBuilder.CreateIndex(
                name: "IX_job_events_Owner_Id",
                schema: "gan",
                table: "job_events",
                columns: new[] { "Owner", "Id" }
            );

            migrationBuilder.Sql(Triggers);
        }

        private const string Triggers = """
            CREATE FUNCTION gan.emit_job_event(
                job uuid, kind text, step bigint, samples integer, status text) RETURNS void
            LANGUAGE plpgsql AS $$
            DECLARE
                id bigint;
            BEGIN
                INSERT INTO gan.job_events ("JobId", "Owner", "Type", "Step", "Samples", "Status")
                SELECT job, j."Owner", kind, step, samples, status FROM gan.training_jobs j WHERE j."Id" = job
                RETURNING "Id" INTO id;
                PERFORM pg_notify('gan_events', 'e,' || id);
            END $$;

            CREATE FUNCTION gan.training_jobs_events() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' OR NEW."Status" IS DISTINCT FROM OLD."Status" THEN
                    PERFORM gan.emit_job_event(NEW."Id", 'status', NEW."Step", NULL, NEW."Status");
                ELSIF NEW."Step" IS DISTINCT FROM OLD."Step"
                    OR NEW."DiscriminatorLoss" IS DISTINCT FROM OLD."DiscriminatorLoss"
                    OR NEW."BestStep" IS DISTINCT FROM OLD."BestStep" THEN
                    PERFORM pg_notify('gan_events', 'p,' || NEW."Id");
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER job_events AFTER INSERT OR UPDATE ON gan.training_jobs
                FOR EACH ROW EXECUTE FUNCTION gan.training_jobs_events();

            CREATE FUNCTION gan.training_metrics_events() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM gan.emit_job_event(NEW."JobId", 'metric', NEW."Step", NULL, NULL);
                RETURN NULL;
            END $$;
            CREATE TRIGGER job_events AFTER INSERT OR UPDATE ON gan.training_metrics
                FOR EACH ROW EXECUTE FUNCTION gan.training_metrics_events();

            CREATE FUNCTION gan.checkpoints_events() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM gan.emit_job_event(NEW."JobId", 'checkpoint', NEW."Step", NULL, NULL);
                RETURN NULL;
            END $$;
            CREATE TRIGGER job_events AFTER INSERT ON gan.checkpoints
                FOR EACH ROW EXECUTE FUNCTION gan.checkpoints_events();

            CREATE FUNCTION gan.evaluations_events() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW."Status" IN ('Succeeded', 'Failed')
                    AND (TG_OP = 'INSERT' OR OLD."Status" IS DISTINCT FROM NEW."Status") THEN
                    PERFORM gan.emit_job_event(NEW."JobId", 'evaluation', NEW."Step", NEW."Samples", NEW."Status");
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER job_events AFTER INSERT OR UPDATE ON gan.evaluations
                FOR EACH ROW EXECUTE FUNCTION gan.evaluations_events();
            """;

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP TRIGGER job_events ON gan.training_jobs;
                DROP TRIGGER job_events ON gan.training_metrics;
                DROP TRIGGER job_events ON gan.checkpoints;
                DROP TRIGGER job_events ON gan.evaluations;
                DROP FUNCTION gan.training_jobs_events(), gan.training_metrics_events(), gan.checkpoints_events(),
                    gan.evaluations_events(), gan.emit_job_event(uuid, text, bigint, integer, text);
                """
            );
            migrationBuilder.DropTable(name: "job_events", schema: "gan");
        }
    }
}
