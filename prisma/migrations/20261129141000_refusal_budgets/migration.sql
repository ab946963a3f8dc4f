-- CreateTable: refusals recorded per caller in the current window. Past the limit, a caller's refusals are
-- answered as usual but counted in metrics instead of stored row by row, so a flood cannot grow attempts.
CREATE TABLE "refusal_budgets" (
    "actor_id" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "refusals" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "refusal_budgets_pkey" PRIMARY KEY ("actor_id")
);
