-- CreateEnum
CREATE TYPE "AttemptOutcome" AS ENUM ('pending', 'started', 'skipped', 'dry_run', 'rate_limited', 'not_found', 'denied', 'forbidden', 'rejected', 'upstream_error', 'unknown');

-- CreateEnum
CREATE TYPE "AttemptTrigger" AS ENUM ('api', 'recovery');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('user', 'app', 'scheduler');

-- CreateEnum
CREATE TYPE "RecoveryState" AS ENUM ('ok', 'recovering', 'backing_off', 'needs_attention');

-- CreateTable
CREATE TABLE "attempts" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "service_principal_id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "trigger" "AttemptTrigger" NOT NULL,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "outcome" "AttemptOutcome" NOT NULL,
    "observed_status" TEXT,
    "quarantine_reason" TEXT,
    "reason" TEXT,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "message" TEXT,
    "retry_after_seconds" INTEGER,
    "graph_request_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "duration_ms" INTEGER,
    "request_id" TEXT,
    "replica_id" TEXT NOT NULL,

    CONSTRAINT "attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_guards" (
    "job_key" TEXT NOT NULL,
    "window_hits" TIMESTAMPTZ(3)[] DEFAULT ARRAY[]::TIMESTAMPTZ(3)[],
    "lease_attempt_id" UUID,
    "lease_expires_at" TIMESTAMPTZ(3),
    "cooldown_until" TIMESTAMPTZ(3),

    CONSTRAINT "job_guards_pkey" PRIMARY KEY ("job_key")
);

-- CreateTable
CREATE TABLE "grants" (
    "id" UUID NOT NULL,
    "principal_id" TEXT NOT NULL,
    "service_principal_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,

    CONSTRAINT "grants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "admin_events" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "action" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "details" JSONB NOT NULL,

    CONSTRAINT "admin_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recovery_watches" (
    "id" UUID NOT NULL,
    "service_principal_id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "state" "RecoveryState" NOT NULL DEFAULT 'ok',
    "last_seen_status" TEXT,
    "last_quarantine_reason" TEXT,
    "last_seen_at" TIMESTAMPTZ(3),
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "next_try_at" TIMESTAMPTZ(3),
    "last_attempt_id" UUID,
    "last_message" TEXT,

    CONSTRAINT "recovery_watches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recovery_sweeps" (
    "id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),
    "leader" TEXT NOT NULL,
    "jobs_read" INTEGER NOT NULL DEFAULT 0,
    "started" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "needs_attention" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "graph_requests" INTEGER NOT NULL DEFAULT 0,
    "message" TEXT,

    CONSTRAINT "recovery_sweeps_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "attempts_created_idx" ON "attempts"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "attempts_job_created_idx" ON "attempts"("service_principal_id", "job_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "attempts_actor_created_idx" ON "attempts"("actor_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "attempts_outcome_created_idx" ON "attempts"("outcome", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "attempts_trigger_created_idx" ON "attempts"("trigger", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "grants_sp_idx" ON "grants"("service_principal_id");

-- CreateIndex
CREATE UNIQUE INDEX "grants_principal_sp_key" ON "grants"("principal_id", "service_principal_id");

-- CreateIndex
CREATE INDEX "admin_events_created_idx" ON "admin_events"("created_at" DESC);

-- CreateIndex
CREATE INDEX "recovery_watches_created_idx" ON "recovery_watches"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "recovery_watches_job_key" ON "recovery_watches"("service_principal_id", "job_id");

-- CreateIndex
CREATE INDEX "recovery_sweeps_started_idx" ON "recovery_sweeps"("started_at" DESC, "id" DESC);

-- Attempt rows are append-only: the only update allowed is the finalising one of a pending row, which
-- may not change who, what or when; deletes only from the retention job (SET LOCAL sync_job_guard.retention = 'on').
CREATE FUNCTION "attempts_guard_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF OLD."outcome" <> 'pending' THEN
    RAISE EXCEPTION 'attempts are append-only: attempt % is already final', OLD."id" USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW."id" IS DISTINCT FROM OLD."id"
     OR NEW."created_at" IS DISTINCT FROM OLD."created_at"
     OR NEW."service_principal_id" IS DISTINCT FROM OLD."service_principal_id"
     OR NEW."job_id" IS DISTINCT FROM OLD."job_id"
     OR NEW."trigger" IS DISTINCT FROM OLD."trigger"
     OR NEW."actor_type" IS DISTINCT FROM OLD."actor_type"
     OR NEW."actor_id" IS DISTINCT FROM OLD."actor_id"
     OR NEW."actor_name" IS DISTINCT FROM OLD."actor_name"
     OR NEW."reason" IS DISTINCT FROM OLD."reason"
     OR NEW."dry_run" IS DISTINCT FROM OLD."dry_run"
     OR NEW."request_id" IS DISTINCT FROM OLD."request_id"
     OR NEW."replica_id" IS DISTINCT FROM OLD."replica_id" THEN
    RAISE EXCEPTION 'attempts are append-only: only the outcome of a pending attempt may be written' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "attempts_immutable_update" BEFORE UPDATE ON "attempts"
  FOR EACH ROW EXECUTE FUNCTION "attempts_guard_immutable"();

CREATE TRIGGER "attempts_immutable_delete" BEFORE DELETE ON "attempts"
  FOR EACH ROW EXECUTE FUNCTION "attempts_guard_immutable"();

CREATE TRIGGER "attempts_no_truncate" BEFORE TRUNCATE ON "attempts"
  FOR EACH STATEMENT EXECUTE FUNCTION "attempts_guard_immutable"();
