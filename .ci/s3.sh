#!/usr/bin/env bash
# Starts a throwaway S3 API server on loopback for the object-store tests: moto's server
# (pinned, tests/lake/requirements.txt) from a virtualenv under ~/.cache, with request
# signing enforced (moto's IAM authentication), an IAM user whose keys are written to an
# AWS shared-credentials file as profile `sluice-test`, and the test buckets.
# Prints two lines on stdout (nothing else): the endpoint URL and the credentials file.
#   read -r endpoint creds < <(.ci/s3.sh | paste -sd' ')
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SLUICE_S3_PORT:-54330}"
venv="${SLUICE_LAKE_VENV:-$HOME/.cache/sluice-s3-venv}"
state="${SLUICE_S3_DIR:-/tmp/sluice-s3-$port}"
if ! "$venv/bin/python" -c 'import moto, boto3, deltalake, pyiceberg, pyarrow' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/lake/requirements.txt >&2
fi
endpoint="http://127.0.0.1:$port"
if ! curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1; then
  rm -rf "$state"
  mkdir -p "$state"
  # The first 3 requests (the IAM set-up below) go unsigned; every later one must be
  # signed with a key moto knows, so wrong credentials are refused as on AWS.
  INITIAL_NO_AUTH_ACTION_COUNT=3 nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" \
    >"$state/server.log" 2>&1 &
  for _ in $(seq 100); do
    curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$venv/bin/python" - "$endpoint" "$state/credentials" <<'PY'
import sys, boto3
endpoint, creds = sys.argv[1], sys.argv[2]
anon = dict(endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **anon)
iam.create_user(UserName="sluice-test")
iam.put_user_policy(UserName="sluice-test", PolicyName="all-s3", PolicyDocument=
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}')
key = iam.create_access_key(UserName="sluice-test")["AccessKey"]
with open(creds, "w") as f:
    f.write("[sluice-test]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
            % (key["AccessKeyId"], key["SecretAccessKey"]))
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
for bucket in ("sluice-test", "sluice-wap"):
    s3.create_bucket(Bucket=bucket)
PY
fi
echo "$endpoint"
echo "$state/credentials"
