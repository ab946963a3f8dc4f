-- CreateTable
CREATE TABLE "recovery_leader" (
    "id" INTEGER NOT NULL,
    "holder" TEXT NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "recovery_leader_pkey" PRIMARY KEY ("id")
);
