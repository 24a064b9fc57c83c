#!/usr/bin/env bash
# `npm run deploy:local` (and remove:local, info:local): the real stack, stage
# `local`, into the LocalStack of docker-compose.yml. osls 4 builds its AWS SDK v3
# clients from the environment, so pointing AWS_ENDPOINT_URL at LocalStack is all
# it takes (serverless-localstack 1.4 still calls provider.getCredentials(), which
# osls 4 removed).
set -euo pipefail
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost.localstack.cloud:4566}"
# Virtual-hosted S3 URLs for the deployment bucket: <bucket>.s3.localhost.localstack.cloud
export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-http://s3.localhost.localstack.cloud:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
if ! curl -sf "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null; then
  echo "LocalStack is not answering at $AWS_ENDPOINT_URL. Start it first: LOCALSTACK_AUTH_TOKEN=... docker compose up -d --wait" >&2
  exit 1
fi
command="${1:-deploy}"
shift || true
exec npx serverless "$command" --stage local "$@"
