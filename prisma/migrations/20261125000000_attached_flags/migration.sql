-- AlterTable
ALTER TABLE "flags" ADD COLUMN     "restriction_id" UUID;

-- CreateIndex
CREATE INDEX "flags_restriction_id_idx" ON "flags"("restriction_id");

-- AddForeignKey
ALTER TABLE "flags" ADD CONSTRAINT "flags_restriction_id_fkey" FOREIGN KEY ("restriction_id") REFERENCES "restrictions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
