-- Job control beyond start (DESIGN 2c): holds, guarded pause and restart, approvals. Additive only: existing
-- attempts read as operation 'start'.

-- CreateEnum
CREATE TYPE "AttemptOperation" AS ENUM ('start', 'pause', 'restart');

-- CreateEnum
CREATE TYPE "ApprovalState" AS ENUM ('pending', 'approved', 'rejected', 'expired');

-- AlterEnum

ALTER TYPE "AttemptOutcome" ADD VALUE 'paused';
ALTER TYPE "AttemptOutcome" ADD VALUE 'restarted';
ALTER TYPE "AttemptOutcome" ADD VALUE 'awaiting_approval';
ALTER TYPE "AttemptOutcome" ADD VALUE 'held';

-- AlterEnum
ALTER TYPE "AttemptTrigger" ADD VALUE 'approval';

-- AlterEnum
ALTER TYPE "RecoveryState" ADD VALUE 'held';

-- AlterTable
ALTER TABLE "attempts" ADD COLUMN     "approval_id" UUID,
ADD COLUMN     "hold_id" UUID,
ADD COLUMN     "operation" "AttemptOperation" NOT NULL DEFAULT 'start',
ADD COLUMN     "requested_by_id" TEXT,
ADD COLUMN     "requested_by_name" TEXT,
ADD COLUMN     "reset_scope" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "holds" (
    "id" UUID NOT NULL,
    "service_principal_id" TEXT NOT NULL,
    "job_id" TEXT,
    "reason" TEXT NOT NULL,
    "until" TIMESTAMPTZ(3),
    "placed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "placed_by_id" TEXT NOT NULL,
    "placed_by_name" TEXT,
    "released_at" TIMESTAMPTZ(3),
    "released_by_id" TEXT,
    "released_by_name" TEXT,

    CONSTRAINT "holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "approvals" (
    "id" UUID NOT NULL,
    "service_principal_id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "operation" "AttemptOperation" NOT NULL,
    "reset_scope" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "reason" TEXT,
    "why" TEXT NOT NULL,
    "state" "ApprovalState" NOT NULL DEFAULT 'pending',
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "requested_by_type" "ActorType" NOT NULL,
    "requested_by_id" TEXT NOT NULL,
    "requested_by_name" TEXT,
    "request_attempt_id" UUID NOT NULL,
    "decided_at" TIMESTAMPTZ(3),
    "decided_by_id" TEXT,
    "decided_by_name" TEXT,
    "decision_reason" TEXT,
    "attempt_id" UUID,

    CONSTRAINT "approvals_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "holds_job_idx" ON "holds"("service_principal_id", "job_id");

-- CreateIndex
CREATE INDEX "holds_placed_idx" ON "holds"("placed_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "approvals_state_expires_idx" ON "approvals"("state", "expires_at");

-- CreateIndex
CREATE INDEX "approvals_requested_idx" ON "approvals"("requested_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "attempts_operation_created_idx" ON "attempts"("operation", "created_at" DESC, "id" DESC);

-- Attempt rows stay append-only: the finalising update may not change the new identity columns either; it may
-- only link the approval an `awaiting_approval` decision asked for.
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
     OR NEW."replica_id" IS DISTINCT FROM OLD."replica_id"
     OR NEW."operation" IS DISTINCT FROM OLD."operation"
     OR (OLD."approval_id" IS NOT NULL AND NEW."approval_id" IS DISTINCT FROM OLD."approval_id")
     OR NEW."reset_scope" IS DISTINCT FROM OLD."reset_scope"
     OR NEW."requested_by_id" IS DISTINCT FROM OLD."requested_by_id"
     OR NEW."requested_by_name" IS DISTINCT FROM OLD."requested_by_name" THEN
    RAISE EXCEPTION 'attempts are append-only: only the outcome of a pending attempt may be written' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
