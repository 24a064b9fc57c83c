#!/bin/bash
# LocalStack init hook (ready stage): the admin API key of stage `local`, in SSM
# Parameter Store as on AWS, where the authorizer reads it. Kept if it exists.
set -euo pipefail
name=/ticket-booking/local/admin-api-key
if awslocal ssm get-parameter --name "$name" >/dev/null 2>&1; then
  echo "admin API key: already in SSM ($name)"
  exit 0
fi
key="${ADMIN_API_KEY:-}"
[ -n "$key" ] || key="adm_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
awslocal ssm put-parameter --name "$name" --type SecureString --value "$key" >/dev/null
echo "admin API key stored in SSM ($name): $key"
