-- AlterTable
ALTER TABLE "recovery_leader" ADD COLUMN     "term" BIGSERIAL NOT NULL;
