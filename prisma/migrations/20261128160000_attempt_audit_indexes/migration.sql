-- Audit queries (GET /v1/attempts): every filter combination reads an ordered index range on
-- (…, created_at DESC, id DESC). Added: a service principal alone, and a job id alone.

-- CreateIndex
CREATE INDEX "attempts_sp_created_idx" ON "attempts"("service_principal_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "attempts_jobid_created_idx" ON "attempts"("job_id", "created_at" DESC, "id" DESC);
