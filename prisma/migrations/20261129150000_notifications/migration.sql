-- CreateEnum
CREATE TYPE "NotificationDeliveryState" AS ENUM ('pending', 'delivered', 'dead');

-- CreateEnum
CREATE TYPE "NotificationDestinationKind" AS ENUM ('webhook', 'teams', 'slack');

-- AlterTable
ALTER TABLE "recovery_watches" ADD COLUMN     "auto_disable_notice" INTEGER,
ADD COLUMN     "quarantine_since" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "notification_events" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "service_principal_id" TEXT,
    "job_id" TEXT,
    "data" JSONB NOT NULL,

    CONSTRAINT "notification_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification_destinations" (
    "id" UUID NOT NULL,
    "kind" "NotificationDestinationKind" NOT NULL,
    "name" TEXT,
    "url" TEXT NOT NULL,
    "secret" TEXT,
    "event_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "service_principal_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "managed" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,

    CONSTRAINT "notification_destinations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification_deliveries" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "destination_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "ordering_key" TEXT NOT NULL,
    "state" "NotificationDeliveryState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3),
    "lease_holder" TEXT,
    "last_status" INTEGER,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "dead_at" TIMESTAMPTZ(3),

    CONSTRAINT "notification_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "notification_events_created_idx" ON "notification_events"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "notification_events_seq_key" ON "notification_events"("seq");

-- CreateIndex
CREATE INDEX "notification_destinations_created_idx" ON "notification_destinations"("created_at", "id");

-- CreateIndex
CREATE INDEX "notification_deliveries_due_idx" ON "notification_deliveries"("state", "next_attempt_at");

-- CreateIndex
CREATE INDEX "notification_deliveries_order_idx" ON "notification_deliveries"("destination_id", "ordering_key", "seq");

-- CreateIndex
CREATE INDEX "notification_deliveries_created_idx" ON "notification_deliveries"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "notification_deliveries_event_destination_key" ON "notification_deliveries"("event_id", "destination_id");

-- AddForeignKey
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "notification_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_destination_id_fkey" FOREIGN KEY ("destination_id") REFERENCES "notification_destinations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: fan-out of each new event to the destinations whose filters match, in the statement that wrote
-- the event (so an event and its deliveries are committed together), and a wake-up for the dispatchers (sent by
-- PostgreSQL at commit; nothing is sent for a rolled-back change).
CREATE FUNCTION "notification_events_fan_out"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "notification_deliveries" ("id", "event_id", "destination_id", "seq", "ordering_key", "next_attempt_at", "created_at")
  SELECT gen_random_uuid(), NEW."id", d."id", NEW."seq",
         COALESCE(lower(NEW."service_principal_id") || '/' || NEW."job_id", NEW."id"::text),
         NEW."created_at", NEW."created_at"
  FROM "notification_destinations" d
  WHERE (cardinality(d."event_types") = 0 OR NEW."type" = ANY (d."event_types"))
    AND (cardinality(d."service_principal_ids") = 0 OR lower(NEW."service_principal_id") = ANY (d."service_principal_ids"));
  IF FOUND THEN
    PERFORM pg_notify('sjg_notifications', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "notification_events_fan_out" AFTER INSERT ON "notification_events"
  FOR EACH ROW EXECUTE FUNCTION "notification_events_fan_out"();
