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

# A private /24 on a bridge of our own: the host end (.1) is the servers' address for the nodes (.10+).
CLUSTER_SUBNET="${CLUSTER_SUBNET:-10.203.0}"
CLUSTER_BRIDGE="${CLUSTER_BRIDGE:-swc0}"
HOST="$CLUSTER_SUBNET.1"
# Two ports listen at HOST, the two a node needs: Temporal's frontend (relayed by the frontend's process
# to its own port on the loopback, as a load balancer in front of the frontends does in production) and
# MinIO's S3 API. Everything else the servers listen on is on the host's loopback, where only the host
# reaches it: PostgreSQL, the Temporal services' gRPC, membership (ringpop: no TLS, no authentication)
# and HTTP ports, MinIO's console, the Web UI. In production the servers' private network and a
# firewall or security groups do this; this machine has no firewall tools.
INTERNAL_HOST=127.0.0.1
PG_PORT="${CLUSTER_PG_PORT:-5433}"
TEMPORAL_PORT="${CLUSTER_TEMPORAL_PORT:-7333}"
UI_PORT="${CLUSTER_UI_PORT:-8333}"
# The Web UI reaches Temporal with the operator's certificate and has no login of its own, so whoever
# reaches it acts as the operator (the nodes would, on the bridge).
UI_HOST="$INTERNAL_HOST"
MINIO_PORT="${CLUSTER_MINIO_PORT:-9100}"
MINIO_CONSOLE_PORT="${CLUSTER_MINIO_CONSOLE_PORT:-9101}"
PORT_SETTINGS="set other ones: CLUSTER_PG_PORT, CLUSTER_TEMPORAL_PORT, CLUSTER_UI_PORT, CLUSTER_MINIO_PORT, CLUSTER_MINIO_CONSOLE_PORT (docs/deploy.md)"
S3_BUCKET="${S3_BUCKET:-sweep-artifacts}"

# Mutual TLS everywhere a node or the operator talks to a server: one private CA of the cluster's
# (tls/ca.pem), a server certificate for both host addresses (Temporal's frontend, MinIO, PostgreSQL), a
# client certificate for the operator on this host (the CLI, tests), one per node (nodes-up.sh).
# Temporal's services among themselves (internode: history, matching, worker) trust a CA of their own,
# which signs their one certificate and nothing else: the cluster's CA signs the nodes', and the
# internode ports have no authorizer, so trusting it there would let a node's certificate call history
# and matching directly, past the frontend's. Keys are mode 600, as the other secrets here.
CLUSTER_TLS_DIR="$CLUSTER_DIR/tls"
CLUSTER_TLS_CA_BASE="$CLUSTER_TLS_DIR/ca"              # .pem and .key
CLUSTER_TLS_CA="$CLUSTER_TLS_CA_BASE.pem"
CLUSTER_TLS_CA_KEY="$CLUSTER_TLS_CA_BASE.key"
CLUSTER_TLS_SERVER="$CLUSTER_TLS_DIR/server"            # .pem and .key
CLUSTER_TLS_OPERATOR="$CLUSTER_TLS_DIR/operator"        # .pem and .key
CLUSTER_TLS_INTERNODE_CA_BASE="$CLUSTER_TLS_DIR/internode-ca"
CLUSTER_TLS_INTERNODE="$CLUSTER_TLS_DIR/internode"      # .pem and .key
# Client certificates taken back before they expire (nodes-revoke.sh), read by the frontend's claim mapper.
CLUSTER_TLS_REVOKED="$CLUSTER_TLS_DIR/revoked-certificates"
# The name clients verify Temporal's certificate against (TEMPORAL_TLS_SERVER_NAME), as they would a
# DNS name in production; the certificate holds the host address too (MinIO is addressed by it).
CLUSTER_TLS_SERVER_NAME="sweep-cluster.internal"

TEMPORAL="$BIN_DIR/temporal"
# CLI calls ignore the caller's Temporal profiles/env and present the operator's certificate.
TCTL_CONNECTION=(--disable-config-file --disable-config-env
  --tls-ca-path "$CLUSTER_TLS_CA" --tls-cert-path "$CLUSTER_TLS_OPERATOR.pem" --tls-key-path "$CLUSTER_TLS_OPERATOR.key" --tls-server-name "$CLUSTER_TLS_SERVER_NAME")
TEMPORAL_ADDRESS="$HOST:$TEMPORAL_PORT"
# The server's processes, temporal-<name>, in the order they start (a frontend's health check needs
# history and matching; the worker service is a client of the frontend): each service, and a second
# host of history, matching and the frontend (<service>-b, its ports its first's + 20), so that a
# lost host's history shards and task queues move to the other, and clients carry on through one
# frontend while the other is down (both listen at TEMPORAL_ADDRESS).
TEMPORAL_PROCESSES=(history history-b matching matching-b frontend frontend-b worker)
# temporal_process_port <name>: its gRPC port at INTERNAL_HOST (the config's; membership ports are +100).
temporal_process_port() {
  local first
  case "${1%-b}" in
    frontend) first=$TEMPORAL_PORT ;;
    history) first=$((TEMPORAL_PORT + 1)) ;;
    matching) first=$((TEMPORAL_PORT + 2)) ;;
    worker) first=$((TEMPORAL_PORT + 6)) ;;
  esac
  if [[ "$1" == *-b ]]; then echo $((first + 20)); else echo "$first"; fi
}
TEMPORAL_NAMESPACE=default
S3_ENDPOINT="https://$HOST:$MINIO_PORT"
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

# --- Certificates (openssl; ECDSA P-256, which Go, rustls, Node and MinIO all accept) ---------------

# ensure_tls_ca <ca base> <common name>: <ca base>.pem and .key, made once (10 years); a leaf signed
# by an older CA is reissued (tls_leaf_valid).
ensure_tls_ca() {
  local ca="$1"
  [[ -s "$ca.pem" && -s "$ca.key" ]] && return 0
  mkdir -p -- "$(dirname -- "$ca")"
  chmod 700 -- "$(dirname -- "$ca")"
  (umask 077
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
     -subj "/O=sweep cluster/CN=$2" -keyout "$ca.key.tmp" -out "$ca.pem.tmp" \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null) ||
    die "openssl could not make the CA $ca.pem"
  mv -f -- "$ca.key.tmp" "$ca.key"
  chmod 644 -- "$ca.pem.tmp"
  mv -f -- "$ca.pem.tmp" "$ca.pem"
}

# tls_leaf_valid <ca base> <base> [ip ...]: <base>.pem is signed by the CA, good for 30 more days, and
# names each ip and CLUSTER_TLS_SERVER_NAME where ips are given.
tls_leaf_valid() {
  local ca="$1" base="$2" ip
  [[ -s "$base.pem" && -s "$base.key" ]] &&
    openssl verify -CAfile "$ca.pem" "$base.pem" >/dev/null 2>&1 &&
    openssl x509 -in "$base.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1 || return 1
  (( $# > 2 )) || return 0
  openssl x509 -in "$base.pem" -noout -checkhost "$CLUSTER_TLS_SERVER_NAME" 2>/dev/null | grep -q 'does match' || return 1
  for ip in "${@:3}"; do
    openssl x509 -in "$base.pem" -noout -checkip "$ip" 2>/dev/null | grep -q 'does match' || return 1
  done
}

# tls_issue <ca base> <base> <common name> server|client [ip ...]: <base>.pem and .key (mode 600), signed
# by the CA for a year, unless a valid one is there. A server certificate
# names CLUSTER_TLS_SERVER_NAME and the ips, and serves as a client too (clientAuth: Temporal's
# internode client, the system worker).
tls_issue() {
  local ca="$1" base="$2" cn="$3" role="$4" ext
  local ips=("${@:5}")
  tls_leaf_valid "$ca" "$base" "${ips[@]}" && return 0
  [[ -s "$ca.pem" && -s "$ca.key" ]] || die "the CA $ca.pem (and its key) is missing; it signs $base.pem"
  ext="basicConstraints=CA:FALSE"$'\n'"keyUsage=critical,digitalSignature"$'\n'
  if [[ "$role" == server ]]; then
    ext+="extendedKeyUsage=serverAuth,clientAuth"$'\n'"subjectAltName=DNS:$CLUSTER_TLS_SERVER_NAME$(printf ',IP:%s' "${ips[@]}")"$'\n'
  else
    ext+="extendedKeyUsage=clientAuth"$'\n'
  fi
  mkdir -p -- "$(dirname -- "$base")"
  (umask 077
   openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=sweep cluster/CN=$cn" \
     -keyout "$base.key.tmp" 2>/dev/null |
     openssl x509 -req -CA "$ca.pem" -CAkey "$ca.key" -set_serial "0x$(random_hex 16)" -days 365 \
       -extfile <(printf '%s' "$ext") -out "$base.pem.tmp" 2>/dev/null) ||
    die "openssl could not issue a $role certificate for $cn ($base.pem)"
  mv -f -- "$base.key.tmp" "$base.key"
  chmod 644 -- "$base.pem.tmp"
  mv -f -- "$base.pem.tmp" "$base.pem"
}

# node_certificate <node>: the node's client certificate for Temporal, <base>.pem and .key (nodes-up.sh).
node_certificate() { printf '%s/%s/tls/client' "$NODES_DIR" "$1"; }

# started_with <name> <text>: the running process <name>'s command line holds <text>.
started_with() { tr '\0' ' ' <"/proc/$(live_pid "$1")/cmdline" | grep -qF -- "$2"; }

# --- Nodes' own S3 identities (MinIO users; mc, installed by setup-cluster.sh) -------------------------

# The policy every node's MinIO user has: the sweeps' bucket's objects, read, written and deleted, and
# its listing; nothing else (no other bucket, no bucket or MinIO administration).
NODE_S3_POLICY=sweep-node
# node_s3_user <node>: the node's MinIO user (its access key id).
node_s3_user() { printf 'node-%s' "$1"; }
# node_s3_credentials <node>: its AWS shared credentials file (profile $AWS_PROFILE_NAME), mode 600.
node_s3_credentials() { printf '%s/%s/aws-credentials' "$NODES_DIR" "$1"; }

# mc_admin <mc arguments>: MinIO's client as its root user, at alias `cluster`; its config (the CA it
# trusts) in <cluster dir>/mc. The root credentials go in the environment, never in a file of mc's.
# Needs load_minio_credentials first.
mc_admin() {
  [[ -x "$BIN_DIR/mc" ]] || die "$BIN_DIR/mc missing (nodes' own MinIO users need it); run infra/setup-cluster.sh"
  mkdir -p -- "$CLUSTER_DIR/mc/certs/CAs"
  cmp -s -- "$CLUSTER_TLS_CA" "$CLUSTER_DIR/mc/certs/CAs/ca.pem" || install -m 644 -- "$CLUSTER_TLS_CA" "$CLUSTER_DIR/mc/certs/CAs/ca.pem"
  MC_HOST_cluster="https://$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD@$HOST:$MINIO_PORT" \
    "$BIN_DIR/mc" --config-dir "$CLUSTER_DIR/mc" --quiet --no-color "$@"
}

# revoke_nodes <node> ...: takes back the nodes' credentials (nodes-revoke.sh; nodes-down.sh --purge):
# each certificate's serial onto the revocation list, each node's MinIO user removed, their files on
# this host deleted. Every node named has its certificate here. Nothing changes unless MinIO's admin
# API answers (a user left behind would keep its keys working).
revoke_nodes() {
  local nodes=("$@") serials=() node serial certificate user i pid
  load_minio_credentials
  mc_admin admin user list cluster >/dev/null 2>&1 ||
    die "MinIO ($S3_ENDPOINT) does not answer its admin API, so the MinIO users of ${nodes[*]} cannot be removed; start it (infra/cluster-up.sh minio) and run this again"
  for node in "${nodes[@]}"; do
    certificate="$(node_certificate "$node").pem"
    serial="$(openssl x509 -in "$certificate" -noout -serial)" || die "cannot read the serial number of $certificate"
    serials+=("${serial#serial=}")
  done

  # The list, rewritten whole and moved into place, so the frontend never reads half of it.
  {
    if [[ -s "$CLUSTER_TLS_REVOKED" ]]; then cat -- "$CLUSTER_TLS_REVOKED"; else echo "# serial (hex) node revoked-at: written by infra/nodes-revoke.sh"; fi
    for i in "${!nodes[@]}"; do printf '%s %s %s\n' "${serials[$i]}" "${nodes[$i]}" "$(date -u +%FT%TZ)"; done
  } >"$CLUSTER_TLS_REVOKED.tmp"
  chmod 644 -- "$CLUSTER_TLS_REVOKED.tmp"
  mv -f -- "$CLUSTER_TLS_REVOKED.tmp" "$CLUSTER_TLS_REVOKED"

  for i in "${!nodes[@]}"; do
    node="${nodes[$i]}" user="$(node_s3_user "${nodes[$i]}")"
    log "$node: certificate (serial ${serials[$i]}) revoked: Temporal refuses it from its next call"
    if mc_admin admin user info cluster "$user" >/dev/null 2>&1; then
      mc_admin admin user remove cluster "$user" >/dev/null || die "could not remove $node's MinIO user $user; see $LOG_DIR/minio.log"
      log "$node: MinIO user $user removed: MinIO refuses its keys"
    else
      log "$node: no MinIO user $user (removed already, or none made: a node started before nodes had keys of their own holds MinIO's root keys, which only new root keys for MinIO take back)"
    fi
    rm -f -- "$(node_certificate "$node")".{pem,key} "$(node_s3_credentials "$node")"
    live_pid "node-$node" >/dev/null && log "$node: its processes still run, refused; stop them: infra/nodes-down.sh $node"
  done

  # A frontend started before the list existed (before 2026-12-05 23:50 UTC) does not read it.
  local process
  for process in "${TEMPORAL_PROCESSES[@]}"; do
    [[ "$process" == frontend* ]] || continue
    if pid="$(live_pid "temporal-$process")" && ! started_with "temporal-$process" "--revoked-certificates $CLUSTER_TLS_REVOKED "; then
      log "warning: temporal-$process (pid $pid) was started without the revocation list, so Temporal still serves the revoked certificates; restart it: infra/setup-cluster.sh && infra/cluster-down.sh temporal-$process && infra/cluster-up.sh temporal"
    fi
  done
}
