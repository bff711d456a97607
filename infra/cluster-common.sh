# Sourced (after common.sh) by the cluster profile's scripts: where its state lives, its addresses and
# ports. Setting STACK_DIR to the cluster dir makes common.sh's live_pid/spawn/stop use its run/,
# logs/ and bin/.
CLUSTER_DIR="${SWEEP_CLUSTER_DIR:-$STACK_DIR/cluster}"
mkdir -p -- "$CLUSTER_DIR"
CLUSTER_DIR="$(cd -- "$CLUSTER_DIR" && pwd -P)"
STACK_DIR="$CLUSTER_DIR"

BIN_DIR="$CLUSTER_DIR/bin"
RUN_DIR="$CLUSTER_DIR/run"
LOG_DIR="$CLUSTER_DIR/logs"
DATA_DIR="$CLUSTER_DIR/data"
CONFIG_DIR="$CLUSTER_DIR/config"
NODES_DIR="$CLUSTER_DIR/nodes"

# Pinned in one place for setup-cluster.sh (the build) and cluster-up.sh (the schema files).
TEMPORAL_SERVER_MODULE="go.temporal.io/server"
TEMPORAL_SERVER_VERSION="v1.32.2"
# Its PostgreSQL schema files, copied there from the Go module by setup-cluster.sh.
SCHEMA_COPY_DIR="$CLUSTER_DIR/schema/$TEMPORAL_SERVER_VERSION"

# A private /24 on a bridge of our own: the host end (.1) is where the servers listen; nodes are .10+.
CLUSTER_SUBNET="${CLUSTER_SUBNET:-10.203.0}"
CLUSTER_BRIDGE="${CLUSTER_BRIDGE:-swc0}"
HOST="$CLUSTER_SUBNET.1"
PG_PORT="${CLUSTER_PG_PORT:-5433}"
TEMPORAL_PORT="${CLUSTER_TEMPORAL_PORT:-7333}"
UI_PORT="${CLUSTER_UI_PORT:-8333}"
MINIO_PORT="${CLUSTER_MINIO_PORT:-9100}"
MINIO_CONSOLE_PORT="${CLUSTER_MINIO_CONSOLE_PORT:-9101}"
PORT_SETTINGS="set other ones: CLUSTER_PG_PORT, CLUSTER_TEMPORAL_PORT, CLUSTER_UI_PORT, CLUSTER_MINIO_PORT, CLUSTER_MINIO_CONSOLE_PORT (docs/deploy.md)"
S3_BUCKET="${S3_BUCKET:-sweep-artifacts}"

TEMPORAL="$BIN_DIR/temporal"
TCTL_ISOLATION=(--disable-config-file --disable-config-env)
TEMPORAL_ADDRESS="$HOST:$TEMPORAL_PORT"
TEMPORAL_NAMESPACE=default
S3_ENDPOINT="http://$HOST:$MINIO_PORT"
MINIO_DRIVES=("$DATA_DIR/minio/drive1" "$DATA_DIR/minio/drive2" "$DATA_DIR/minio/drive3" "$DATA_DIR/minio/drive4")

ENV_FILE="$CLUSTER_DIR/stack.env"
AWS_CREDS_FILE="$CLUSTER_DIR/aws-credentials"
MINIO_CREDS_FILE="$CLUSTER_DIR/minio-credentials.env"
PG_CREDS_FILE="$CLUSTER_DIR/postgres-password"
AWS_PROFILE_NAME=sweep-cluster
PG_USER=temporal

# PostgreSQL's binaries: $PG_BIN, else the ones bin/postgres links to, else Debian's newest.
if [[ -z "${PG_BIN:-}" ]]; then
  if [[ -L "$BIN_DIR/postgres" ]]; then
    PG_BIN="$(dirname -- "$(readlink -f -- "$BIN_DIR/postgres")")"
  else
    # `|| true`: with pipefail, a missing /usr/lib/postgresql would end the script here without a word.
    PG_BIN="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
fi

# Worker nodes: network namespace swc-<name>, host-side veth swc-<name>-h (<= 15 characters).
NODE_PREFIX="swc-"
