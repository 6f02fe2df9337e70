-- CreateEnum
CREATE TYPE "RuleScope" AS ENUM ('TOKEN', 'ACCOUNT', 'IP', 'ROUTE', 'PLAN');

-- CreateEnum
CREATE TYPE "FailMode" AS ENUM ('OPEN', 'CLOSED', 'LOCAL');

-- CreateEnum
CREATE TYPE "ErrorStyle" AS ENUM ('NESTJS', 'DETAIL', 'PROBLEM_JSON');

-- CreateEnum
CREATE TYPE "AccountStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'CLOSED');

-- CreateEnum
CREATE TYPE "BurstNoticeStatus" AS ENUM ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "FlagKind" AS ENUM ('SUSTAINED_EXCESS', 'LIMIT_PRESSURE', 'ERROR_STORM', 'ENDPOINT_HAMMERING', 'TOKEN_SPREAD');

-- CreateEnum
CREATE TYPE "FlagStatus" AS ENUM ('OPEN', 'RESOLVED', 'DISMISSED');

-- CreateEnum
CREATE TYPE "Severity" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');

-- CreateEnum
CREATE TYPE "RestrictionScope" AS ENUM ('ACCOUNT', 'TOKEN', 'IP', 'ROUTE');

-- CreateEnum
CREATE TYPE "RestrictionMode" AS ENUM ('NOTIFY', 'THROTTLE', 'BLOCK');

-- CreateEnum
CREATE TYPE "RestrictionStatus" AS ENUM ('PENDING_APPROVAL', 'ACTIVE', 'EXPIRED', 'LIFTED', 'REJECTED');

-- CreateEnum
CREATE TYPE "NotificationKind" AS ENUM ('RESTRICTION_APPLIED', 'RESTRICTION_LIFTED', 'WARNING');

-- CreateEnum
CREATE TYPE "NotificationStatus" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('SYSTEM', 'OPS_USER', 'CUSTOMER');

-- CreateEnum
CREATE TYPE "OpsRole" AS ENUM ('VIEWER', 'OPERATOR', 'ADMIN');

-- CreateTable
CREATE TABLE "plans" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "api_access" BOOLEAN NOT NULL DEFAULT true,
    "error_style" "ErrorStyle" NOT NULL DEFAULT 'NESTJS',
    "limit_status_code" INTEGER NOT NULL DEFAULT 429,
    "detection_config" JSONB NOT NULL DEFAULT '{}',
    "enforcement_config" JSONB NOT NULL DEFAULT '{}',
    "prior_per_minute" DOUBLE PRECISION NOT NULL DEFAULT 10,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "plans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "limit_rules" (
    "id" UUID NOT NULL,
    "plan_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "scope" "RuleScope" NOT NULL,
    "routes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "cidrs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "windows" JSONB NOT NULL DEFAULT '[]',
    "cost" INTEGER NOT NULL DEFAULT 1,
    "concurrency" INTEGER,
    "fail_mode" "FailMode" NOT NULL DEFAULT 'OPEN',
    "shadow" BOOLEAN NOT NULL DEFAULT false,
    "count_limited" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "position" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "limit_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "accounts" (
    "id" UUID NOT NULL,
    "external_id" TEXT,
    "name" TEXT NOT NULL,
    "plan_id" UUID NOT NULL,
    "status" "AccountStatus" NOT NULL DEFAULT 'ACTIVE',
    "allowlisted" BOOLEAN NOT NULL DEFAULT false,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification_contacts" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ingest_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "ingest_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "burst_notices" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "expected_per_minute" INTEGER,
    "expected_per_hour" INTEGER,
    "endpoints" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "context" TEXT NOT NULL DEFAULT '',
    "status" "BurstNoticeStatus" NOT NULL DEFAULT 'PENDING',
    "late" BOOLEAN NOT NULL DEFAULT false,
    "submitted_by_type" "ActorType" NOT NULL DEFAULT 'CUSTOMER',
    "submitted_by" TEXT,
    "reviewed_by" UUID,
    "reviewed_at" TIMESTAMPTZ(3),
    "review_note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "burst_notices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "flags" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "kind" "FlagKind" NOT NULL,
    "severity" "Severity" NOT NULL,
    "status" "FlagStatus" NOT NULL DEFAULT 'OPEN',
    "open_key" TEXT,
    "score" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "summary" TEXT NOT NULL DEFAULT '',
    "evidence" JSONB NOT NULL DEFAULT '{}',
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),
    "reviewed_by" UUID,
    "review_note" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "flags_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "restrictions" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "flag_id" UUID,
    "scope" "RestrictionScope" NOT NULL DEFAULT 'ACCOUNT',
    "scope_value" TEXT,
    "mode" "RestrictionMode" NOT NULL,
    "throttle_factor" DOUBLE PRECISION,
    "status_code" INTEGER NOT NULL DEFAULT 429,
    "reason_code" TEXT NOT NULL,
    "reason" TEXT NOT NULL DEFAULT '',
    "level" INTEGER NOT NULL DEFAULT 0,
    "status" "RestrictionStatus" NOT NULL DEFAULT 'ACTIVE',
    "starts_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by_type" "ActorType" NOT NULL DEFAULT 'SYSTEM',
    "created_by" TEXT,
    "lifted_at" TIMESTAMPTZ(3),
    "lifted_by" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "restrictions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notifications" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "restriction_id" UUID,
    "kind" "NotificationKind" NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "recipients" TEXT[],
    "subject" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "NotificationStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "message_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT,
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT,
    "account_id" UUID,
    "before" JSONB,
    "after" JSONB,
    "reason" TEXT NOT NULL DEFAULT '',
    "request_id" TEXT,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ops_users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "password_hash" TEXT NOT NULL,
    "role" "OpsRole" NOT NULL DEFAULT 'VIEWER',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMPTZ(3),

    CONSTRAINT "ops_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ops_sessions" (
    "id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "ip" TEXT NOT NULL DEFAULT '',
    "user_agent" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ops_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "plans_key_key" ON "plans"("key");

-- CreateIndex
CREATE UNIQUE INDEX "limit_rules_plan_id_name_key" ON "limit_rules"("plan_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_external_id_key" ON "accounts"("external_id");

-- CreateIndex
CREATE INDEX "accounts_plan_id_idx" ON "accounts"("plan_id");

-- CreateIndex
CREATE UNIQUE INDEX "notification_contacts_account_id_email_key" ON "notification_contacts"("account_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_secret_hash_key" ON "api_tokens"("secret_hash");

-- CreateIndex
CREATE INDEX "api_tokens_account_id_idx" ON "api_tokens"("account_id");

-- CreateIndex
CREATE UNIQUE INDEX "ingest_keys_secret_hash_key" ON "ingest_keys"("secret_hash");

-- CreateIndex
CREATE INDEX "burst_notices_account_id_starts_at_idx" ON "burst_notices"("account_id", "starts_at");

-- CreateIndex
CREATE UNIQUE INDEX "flags_open_key_key" ON "flags"("open_key");

-- CreateIndex
CREATE INDEX "flags_status_severity_idx" ON "flags"("status", "severity");

-- CreateIndex
CREATE INDEX "flags_account_id_created_at_idx" ON "flags"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "restrictions_status_expires_at_idx" ON "restrictions"("status", "expires_at");

-- CreateIndex
CREATE INDEX "restrictions_account_id_created_at_idx" ON "restrictions"("account_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "notifications_idempotency_key_key" ON "notifications"("idempotency_key");

-- CreateIndex
CREATE INDEX "notifications_status_created_at_idx" ON "notifications"("status", "created_at");

-- CreateIndex
CREATE INDEX "notifications_account_id_created_at_idx" ON "notifications"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "audit_events_account_id_at_idx" ON "audit_events"("account_id", "at");

-- CreateIndex
CREATE INDEX "audit_events_target_type_target_id_idx" ON "audit_events"("target_type", "target_id");

-- CreateIndex
CREATE UNIQUE INDEX "ops_users_email_key" ON "ops_users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "ops_sessions_token_hash_key" ON "ops_sessions"("token_hash");

-- CreateIndex
CREATE INDEX "ops_sessions_user_id_idx" ON "ops_sessions"("user_id");

-- AddForeignKey
ALTER TABLE "limit_rules" ADD CONSTRAINT "limit_rules_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plans"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plans"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification_contacts" ADD CONSTRAINT "notification_contacts_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "burst_notices" ADD CONSTRAINT "burst_notices_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "flags" ADD CONSTRAINT "flags_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "restrictions" ADD CONSTRAINT "restrictions_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "restrictions" ADD CONSTRAINT "restrictions_flag_id_fkey" FOREIGN KEY ("flag_id") REFERENCES "flags"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_restriction_id_fkey" FOREIGN KEY ("restriction_id") REFERENCES "restrictions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ops_sessions" ADD CONSTRAINT "ops_sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "ops_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
