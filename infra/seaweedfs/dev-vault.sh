#!/usr/bin/env bash
# A local SeaweedFS for the vault (`make run STORE=s3`): start it if needed, make sure the bucket
# exists with Object Lock, and print the vault's environment on stdout, for
#
#     eval "$(infra/seaweedfs/dev-vault.sh)"
#
# Start: if nothing answers on the S3 port, runs run-seaweedfs.sh STATE_DIR in the background
# (its own session, output in STATE_DIR/logs/dev-vault.out, pid in STATE_DIR/dev-vault.pid).
# Ready: a real PUT + GET (then delete) of a probe object in the bucket, within START_TIMEOUT.
# Bucket: `vault` (VAULT_S3_BUCKET), created with Object Lock when absent; the keys are those of
# STATE_DIR/s3.json. Messages go to stderr, only `export ...` lines to stdout.
#
# Usage: dev-vault.sh [start]    start if needed, print the environment
#        dev-vault.sh stop       stop the server this script started (graceful, up to 60 s)
# Env:   VAULT_SEAWEED_DIR (STATE_DIR; default ${VAULT_HOME:-~/.local/share/evidence-vault}/seaweedfs),
#        VAULT_S3_BUCKET (vault), START_TIMEOUT (60 s), PYTHON (default: the repo's .venv),
#        and run-seaweedfs.sh's WEED, SEAWEED_IP, S3_PORT, MASTER_PORT, VOLUME_PORT, FILER_PORT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
state=${VAULT_SEAWEED_DIR:-${VAULT_HOME:-$data_home/evidence-vault}/seaweedfs}
state=${state/#\~/$HOME}
case $state in /*) ;; *) state=$PWD/$state ;; esac  # run-seaweedfs.sh cds into it
ip=${SEAWEED_IP:-127.0.0.1}
s3_port=${S3_PORT:-8333}
bucket=${VAULT_S3_BUCKET:-vault}
timeout=${START_TIMEOUT:-60}
pidfile=$state/dev-vault.pid
endpoint=http://$ip:$s3_port

say() { echo "dev-vault: $*" >&2; }
die() { say "error: $*"; exit 1; }

python=${PYTHON:-$repo/.venv/bin/python}
[ -x "$python" ] || python=$(command -v python3) || die "no python (make setup first)"
if [ -z "${WEED:-}" ] && [ -x "$repo/.venv/bin/weed" ]; then export WEED=$repo/.venv/bin/weed; fi

answering() { (exec 3<>"/dev/tcp/$ip/$s3_port") 2>/dev/null; }

# The pid of the server we started, if that process is still a weed serving $state.
our_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-dir=$state/data" || return 1
  echo "$pid"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$pidfile"
    if answering; then say "port $s3_port answers, but not a server started by this script"; fi
    say "not running (state: $state)"
    return 0
  fi
  say "stopping SeaweedFS (pid $pid; a graceful stop takes 15-25 s) ..."
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 60 s: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  # weed leaves gRPC sockets in /tmp (see README.md); remove ours once it is gone.
  sleep 0.2
  if ! kill -0 "$pid" 2>/dev/null; then
    local name port
    for name in master:"${MASTER_PORT:-9333}" volume:"${VOLUME_PORT:-8080}" \
                filer:"${FILER_PORT:-8888}" s3:"$s3_port"; do
      port=${name#*:}
      rm -f "/tmp/seaweedfs-${name%%:*}-grpc-$((port + 10000)).sock"
    done
  fi
  say "stopped"
}

start() {
  umask 077
  mkdir -p "$state/logs"
  chmod 700 "$state"
  local pid=""
  if answering; then
    [ -f "$state/s3.json" ] || die "port $s3_port is taken, and $state/s3.json has no keys for it"
    pid=$(our_pid) || pid=""
    say "SeaweedFS already answers on $endpoint${pid:+ (pid $pid)}"
  else
    command -v setsid >/dev/null || die "setsid not found (util-linux)"
    say "starting SeaweedFS in $state (log: $state/logs/dev-vault.out) ..."
    # Own session (Ctrl-C in the caller's terminal does not stop it); no stdout to the caller, so
    # `$(dev-vault.sh)` returns. run-seaweedfs.sh prints the new keys there on the first run only.
    setsid "$here/run-seaweedfs.sh" "$state" >> "$state/logs/dev-vault.out" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$pidfile"
  fi
  # Wait for a real PUT + GET, create the bucket, print the environment.
  "$python" - "$state/s3.json" "$endpoint" "$bucket" "$timeout" "${pid:-0}" <<'EOF' || {
import json, os, shlex, sys, time

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

config_path, endpoint, bucket, timeout, pid = sys.argv[1:]
deadline = time.monotonic() + float(timeout)
while not os.path.exists(config_path) and time.monotonic() < deadline:
    time.sleep(0.1)
creds = json.load(open(config_path))["identities"][0]["credentials"][0]
access, secret = creds["accessKey"], creds["secretKey"]
s3 = boto3.client(
    "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access,
    aws_secret_access_key=secret,
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                  connect_timeout=1, read_timeout=5),
)


def alive() -> bool:  # the server we started is neither gone nor a zombie
    try:
        return pid == "0" or open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def ready() -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        print(f"dev-vault: created bucket {bucket!r} with Object Lock", file=sys.stderr)
    key = ".dev-vault-probe"  # outside the vault's prefix; removed again (all of its versions)
    s3.put_object(Bucket=bucket, Key=key, Body=b"ready")
    ok = s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"ready"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
    for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        if v["Key"] == key:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
    return ok


last = None
while True:
    if not alive():
        sys.exit("dev-vault: error: SeaweedFS exited; see the log")
    try:
        if ready():
            break
    except (BotoCoreError, ClientError) as exc:
        last = exc
    if time.monotonic() > deadline:
        sys.exit(f"dev-vault: error: {endpoint} not ready after {timeout} s (last error: {last})")
    time.sleep(0.5)

try:
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    locked = lock.get("ObjectLockEnabled") == "Enabled"
except ClientError:
    locked = False
if not locked:
    print(f"dev-vault: warning: bucket {bucket!r} has no Object Lock; the vault will refuse "
          "to ingest (recreate the bucket, or use --allow-unlocked)", file=sys.stderr)
print(f"dev-vault: S3 ready at {endpoint}, bucket {bucket!r}", file=sys.stderr)
url = f"s3://{bucket}/objects?endpoint={endpoint}&region=us-east-1&path_style=1"
print(f"export VAULT_STORE_URL={shlex.quote(url)}")
print(f"export AWS_ACCESS_KEY_ID={shlex.quote(access)}")
print(f"export AWS_SECRET_ACCESS_KEY={shlex.quote(secret)}")
print("export AWS_DEFAULT_REGION=us-east-1")
EOF
    if pid=$(our_pid); then say "SeaweedFS (pid $pid) left running; \`$0 stop\` stops it"; fi
    say "last lines of $state/logs/dev-vault.out:"
    tail -n 20 "$state/logs/dev-vault.out" >&2 || true
    exit 1
  }
}

case ${1:-start} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
