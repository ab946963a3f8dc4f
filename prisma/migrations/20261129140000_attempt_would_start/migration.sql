-- AlterTable: whether a dry run's start would have been sent (null for decisions that are not dry runs).
-- Additive and nullable: existing rows keep null, and the append-only trigger lets the finalising update set it.
ALTER TABLE "attempts" ADD COLUMN "would_start" BOOLEAN;
