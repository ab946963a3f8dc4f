-- Decisions in flight move out of "attempts" into their own small table (issue 19: fewer index writes per
-- decision). The claim writes a pending row here; the finalise deletes it and inserts the final attempts row in
-- the same statement, so "attempts" is insert-only and a decision writes each of its indexes once (it used to
-- write all of them twice: the finalising update changed the indexed outcome, so it could not be a HOT update).
-- Audit reads see the union of both tables, the pending rows with outcome 'pending'.

-- CreateTable
CREATE TABLE "pending_attempts" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "service_principal_id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "trigger" "AttemptTrigger" NOT NULL,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "reason" TEXT,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "request_id" TEXT,
    "replica_id" TEXT NOT NULL,
    "operation" "AttemptOperation" NOT NULL DEFAULT 'start',
    "approval_id" UUID,
    "hold_id" UUID,
    "reset_scope" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "requested_by_id" TEXT,
    "requested_by_name" TEXT,

    CONSTRAINT "pending_attempts_pkey" PRIMARY KEY ("id")
);

-- From here on "attempts" takes no pending row. A replica still running the previous version fails at its claim,
-- before it calls Graph, instead of writing a row that this version would never finalise. NOT VALID: the pending
-- rows already there are moved below. The ACCESS EXCLUSIVE lock this takes is held until the migration commits,
-- so no claim can add a pending row between the copy and the delete.
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_final_only" CHECK ("outcome" <> 'pending') NOT VALID;

-- Existing pending rows (decisions in flight, or left open by a crash) move, with their ids and times, in one
-- statement: every row deleted is the row inserted. The append-only trigger lets only the retention job delete;
-- this transaction says it is that job, once.
SELECT set_config('sync_job_guard.retention', 'on', true);
WITH "moved" AS (
    DELETE FROM "attempts" WHERE "outcome" = 'pending'
    RETURNING "id", "created_at", "service_principal_id", "job_id", "trigger", "actor_type", "actor_id",
        "actor_name", "reason", "dry_run", "request_id", "replica_id", "operation", "approval_id", "hold_id",
        "reset_scope", "requested_by_id", "requested_by_name"
)
INSERT INTO "pending_attempts" ("id", "created_at", "service_principal_id", "job_id", "trigger", "actor_type",
    "actor_id", "actor_name", "reason", "dry_run", "request_id", "replica_id", "operation", "approval_id", "hold_id",
    "reset_scope", "requested_by_id", "requested_by_name")
SELECT * FROM "moved";
SELECT set_config('sync_job_guard.retention', 'off', true);

-- "attempts" holds final rows only, and is insert-only: no update is allowed any more.
CREATE OR REPLACE FUNCTION "attempts_guard_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'attempts are append-only: truncate refused' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN
    IF current_setting('sync_job_guard.retention', true) = 'on' THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'attempts are append-only: delete refused' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION 'attempts are append-only: attempt % is already final', OLD."id" USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- A decision in flight may already have reached Graph: its row is never edited, and it leaves the table only by
-- the finalise (or the reconciler's settling), which deletes it and writes the final attempts row in the same
-- statement. Updates and truncation are refused.
CREATE OR REPLACE FUNCTION "pending_attempts_guard_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'pending attempts are immutable: truncate refused' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION 'pending attempts are immutable: attempt % is in flight', OLD."id" USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "pending_attempts_immutable_row" BEFORE UPDATE ON "pending_attempts"
  FOR EACH ROW EXECUTE FUNCTION "pending_attempts_guard_immutable"();
CREATE TRIGGER "pending_attempts_immutable_truncate" BEFORE TRUNCATE ON "pending_attempts"
  FOR EACH STATEMENT EXECUTE FUNCTION "pending_attempts_guard_immutable"();
