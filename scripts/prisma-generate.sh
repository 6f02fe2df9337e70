#!/usr/bin/env bash
# Generates the Prisma client into libs/database/src/generated. The Prisma CLI wants to download a native schema
# engine from its own host, which generate does not use: pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
# skips that download (see docs/database.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/scripts/prisma-generate.sh}"
export PRISMA_HIDE_UPDATE_MESSAGE=1
npx --no-install prisma generate --no-hints >/dev/null
