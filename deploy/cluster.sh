#!/usr/bin/env bash
# A whole deployment on one machine, on loopback: a three-master Redis Cluster, three
# WeWatch nodes and HAProxy in front of them (deploy/README.md).
#
#   deploy/cluster.sh start     start what is not running (the release binary must be built)
#   deploy/cluster.sh stop      stop the nodes (SIGTERM: they drain), HAProxy, then Redis
#   deploy/cluster.sh status    what runs, the cluster's state, each node as HAProxy sees it
#   deploy/cluster.sh restart   rolling restart of the nodes, one at a time
#
# State (Redis data, pid files, the rendered settings, the shared secret key) lives in
# storage/cluster/, logs in logs/cluster/. Only processes named by those pid files are
# ever signalled.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

read -r -a REDIS_PORTS <<<"${CLUSTER_REDIS_PORTS:-7001 7002 7003}"
read -r -a NODE_PORTS <<<"${CLUSTER_NODE_PORTS:-8081 8082 8083}"
PROXY_PORT=${CLUSTER_PROXY_PORT:-8090}
STATS_PORT=${CLUSTER_STATS_PORT:-8091}
HOST=127.0.0.1
STATE=storage/cluster
LOGS=logs/cluster
BIN=$ROOT/target/release/wewatch
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
# How long a node may take to drain on SIGTERM before it is killed: [nodes] drain_ms,
# [server] shutdown_timeout_secs and some margin.
STOP_WAIT_SECS=30

say() { printf '%s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# running PIDFILE NAME: the pid file names a live process whose command line holds NAME
# (so a pid reused by another program is never taken for ours).
running() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

port_taken() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# stop_pid PIDFILE NAME SIGNAL: signals our process (if it runs) and waits for it to exit;
# fails when it was not running.
stop_pid() {
  local file=$1 name=$2 signal=$3 pid i
  if ! running "$file" "$name"; then
    rm -f "$file"
    return 1
  fi
  pid=$(cat "$file")
  [[ $signal == none ]] || kill "-$signal" "$pid"
  for ((i = 0; i < STOP_WAIT_SECS * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "  pid $pid did not stop within ${STOP_WAIT_SECS} s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cluster_info() { redis-cli -h "$HOST" -p "$1" CLUSTER INFO 2>/dev/null | tr -d '\r' || true; }

# cluster_says PORT LINE: CLUSTER INFO on PORT has this line.
cluster_says() {
  local info
  info=$(cluster_info "$1")
  grep -qx -- "$2" <<<"$info"
}

# ---- Redis Cluster -----------------------------------------------------------------------

start_redis() {
  local port dir
  for port in "${REDIS_PORTS[@]}"; do
    dir=$ROOT/$STATE/redis-$port
    if running "$dir/redis.pid" redis-server; then
      say "Redis $HOST:$port already runs."
      continue
    fi
    port_taken "$port" && die "port $port is taken by another program (CLUSTER_REDIS_PORTS picks others)"
    mkdir -p "$dir"
    # redis.conf (append-only file, daemonized) in cluster mode; nodes.conf records the
    # cluster, so a restarted server rejoins it.
    redis-server "$ROOT/redis.conf" --port "$port" --bind "$HOST" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$ROOT/$LOGS/redis-$port.log"
  done
  for port in "${REDIS_PORTS[@]}"; do
    wait_for "Redis on port $port" 10 redis_answers "$port"
  done
}

redis_answers() { [[ $(redis-cli -h "$HOST" -p "$1" PING 2>/dev/null) == PONG ]]; }

# Creates the cluster once: servers that already hold all 16384 slots are left as they are.
create_cluster() {
  local port seeds=() fresh=1
  if cluster_says "${REDIS_PORTS[0]}" cluster_slots_assigned:16384; then
    say "Redis Cluster already created."
  else
    for port in "${REDIS_PORTS[@]}"; do
      cluster_says "$port" cluster_known_nodes:1 || fresh=0
      cluster_says "$port" cluster_slots_assigned:0 || fresh=0
      seeds+=("$HOST:$port")
    done
    ((fresh)) || die "the Redis servers under $STATE/ hold part of a cluster; stop, remove $STATE/redis-* (their data) and start again"
    say "Creating the Redis Cluster (${seeds[*]})…"
    redis-cli --cluster create "${seeds[@]}" --cluster-replicas 0 --cluster-yes \
      >"$LOGS/cluster-create.log" 2>&1 ||
      { cat "$LOGS/cluster-create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  for port in "${REDIS_PORTS[@]}"; do
    wait_for "the Redis Cluster to be ready on port $port" 30 cluster_ok "$port"
  done
}

cluster_ok() { cluster_says "$1" cluster_state:ok; }

stop_redis() {
  local port
  for port in "${REDIS_PORTS[@]}"; do
    # SIGTERM: Redis writes its data and exits.
    if stop_pid "$STATE/redis-$port/redis.pid" redis-server TERM; then
      say "Redis $HOST:$port stopped."
    fi
  done
}

# ---- WeWatch nodes -----------------------------------------------------------------------

# The secret key every node signs cookies and CSRF tokens with: one for all of them, or a
# cookie signed by one node is refused by the next. Generated once; never printed.
ensure_secret() {
  local file=$STATE/secret.key
  [[ -s $file ]] && return
  (umask 077 && head -c 64 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$file" && echo >>"$file")
}

# The nodes' settings: server.toml, with the proxy trusted to name the client's address and
# the shared key file. Rendered at every start, so changes to server.toml reach the nodes.
render_settings() {
  local out=$STATE/server.toml
  sed -e 's|^trusted_proxies *=.*$|trusted_proxies = ["'"$HOST"'"]|' \
    -e 's|^secret_key_file *=.*$|secret_key_file = "'"$STATE"'/secret.key"|' \
    server.toml >"$out.new"
  if ! grep -q '^trusted_proxies = \["'"$HOST"'"\]$' "$out.new" ||
    ! grep -q '^secret_key_file = "'"$STATE"'/secret.key"$' "$out.new"; then
    die "server.toml has no one-line trusted_proxies or secret_key_file to replace"
  fi
  mv "$out.new" "$out"
}

redis_url() {
  local port seeds=()
  for port in "${REDIS_PORTS[@]}"; do seeds+=("$HOST:$port"); done
  local IFS=,
  echo "redis+cluster://${seeds[*]}"
}

start_node() {
  local port=$1 pidfile=$STATE/wewatch-$1.pid
  if running "$pidfile" "$BIN"; then
    say "Node $HOST:$port already runs."
    return
  fi
  port_taken "$port" && die "port $port is taken by another program (CLUSTER_NODE_PORTS picks others)"
  # setsid: the node outlives this script and a Ctrl-C in its terminal. The key comes from
  # the settings' key file, so a WEWATCH_SECRET_KEY of the caller's is not passed on, nor a
  # metrics port three nodes cannot share.
  setsid env -u WEWATCH_SECRET_KEY -u WEWATCH_METRICS_PORT \
    WEWATCH_CONFIG="$STATE/server.toml" REDIS_URL="$(redis_url)" \
    WEWATCH_HOST="$HOST" PORT="$port" WEWATCH_LOG_DIR= \
    "$BIN" >>"$LOGS/wewatch-$port.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

node_ready() {
  running "$STATE/wewatch-$1.pid" "$BIN" ||
    { tail -n 20 "$LOGS/wewatch-$1.log" >&2; die "node $1 exited (log: $LOGS/wewatch-$1.log)"; }
  curl -fsS -o /dev/null --max-time 1 "http://$HOST:$1/readyz" 2>/dev/null
}

# stop_node PORT: SIGTERM (the node drains), and waits for it to exit.
stop_node() {
  if stop_pid "$STATE/wewatch-$1.pid" "$BIN" TERM; then
    say "Node $HOST:$1 stopped."
  fi
}

# ---- HAProxy -----------------------------------------------------------------------------

render_haproxy() {
  local port servers=""
  for port in "${NODE_PORTS[@]}"; do
    servers+="    server node$port $HOST:$port check"$'\n'
  done
  awk -v servers="$servers" -v proxy="$HOST:$PROXY_PORT" -v stats="$HOST:$STATS_PORT" '
    /^ *# @SERVERS@$/ { printf "%s", servers; next }
    { gsub(/@PROXY_ADDRESS@/, proxy); gsub(/@STATS_ADDRESS@/, stats); print }
  ' deploy/haproxy.cfg >"$STATE/haproxy.cfg"
  "$HAPROXY" -c -q -f "$STATE/haproxy.cfg" || die "HAProxy refuses $STATE/haproxy.cfg"
}

start_haproxy() {
  local pidfile=$STATE/haproxy.pid
  if running "$pidfile" haproxy; then
    say "HAProxy already runs."
    return
  fi
  [[ -x $HAPROXY ]] || die "haproxy is missing. Install it with: sudo apt-get install haproxy"
  port_taken "$PROXY_PORT" && die "port $PROXY_PORT is taken by another program (CLUSTER_PROXY_PORT picks another)"
  port_taken "$STATS_PORT" && die "port $STATS_PORT is taken by another program (CLUSTER_STATS_PORT picks another)"
  render_haproxy
  # -db: in the foreground (of its own session), logging to stdout.
  setsid "$HAPROXY" -db -f "$STATE/haproxy.cfg" >>"$LOGS/haproxy.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

proxy_ready() { curl -fsS -o /dev/null --max-time 1 "http://$HOST:$PROXY_PORT/readyz" 2>/dev/null; }

# haproxy_sees: each node's state as HAProxy's statistics say, one "node8081 UP" a line.
haproxy_sees() {
  curl -s --max-time 1 "http://$HOST:$STATS_PORT/;csv" 2>/dev/null |
    awk -F, '$1 == "nodes" && $2 != "BACKEND" { print $2, $18 }' || true
}

# haproxy_up PORT…: HAProxy sends requests to each of these nodes.
haproxy_up() {
  local seen port
  seen=$(haproxy_sees)
  for port; do grep -qx "node$port UP" <<<"$seen" || return 1; done
}

stop_haproxy() {
  if stop_pid "$STATE/haproxy.pid" haproxy TERM; then
    say "HAProxy stopped."
  fi
}

# ---- Commands ----------------------------------------------------------------------------

# wait_for WHAT SECONDS COMMAND ARGS…: until COMMAND succeeds, or dies after SECONDS.
wait_for() {
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" && return
    sleep 0.1
  done
  die "timed out waiting for $what"
}

start() {
  [[ -x $BIN ]] || die "$BIN is missing; build it first (make build)"
  command -v redis-server >/dev/null || die "redis-server is missing. Install it with: sudo apt-get install redis-server"
  mkdir -p "$STATE" "$LOGS"
  chmod 700 "$STATE"
  start_redis
  create_cluster
  ensure_secret
  render_settings
  local port
  for port in "${NODE_PORTS[@]}"; do start_node "$port"; done
  for port in "${NODE_PORTS[@]}"; do wait_for "node $port to be ready" 45 node_ready "$port"; done
  start_haproxy
  wait_for "HAProxy to answer /readyz" 15 proxy_ready
  wait_for "HAProxy to see every node up" 15 haproxy_up "${NODE_PORTS[@]}"
  say ""
  say "WeWatch: http://$HOST:$PROXY_PORT  (HAProxy; its stats: http://$HOST:$STATS_PORT)"
  say "  nodes ${NODE_PORTS[*]/#/$HOST:} on the Redis Cluster $(redis_url)"
  say "  logs in $LOGS/, state in $STATE/; stop with: make cluster-stop"
}

stop() {
  local port stopping=()
  # The nodes first, together: each tells its viewers to reconnect and leaves the registry,
  # which needs Redis.
  for port in "${NODE_PORTS[@]}"; do
    if running "$STATE/wewatch-$port.pid" "$BIN"; then
      kill -TERM "$(cat "$STATE/wewatch-$port.pid")"
      stopping+=("$port")
    fi
  done
  for port in "${stopping[@]}"; do
    stop_pid "$STATE/wewatch-$port.pid" "$BIN" none || true
    say "Node $HOST:$port stopped."
  done
  stop_haproxy
  stop_redis
  say "Stopped."
}

restart() {
  local port
  render_settings
  for port in "${NODE_PORTS[@]}"; do
    stop_node "$port"
    start_node "$port"
    wait_for "node $port to be ready" 45 node_ready "$port"
    # HAProxy sends it requests again (rise 2 × inter 1s) before the next one goes.
    wait_for "HAProxy to see node $port up" 15 haproxy_up "$port"
    say "Node $HOST:$port restarted."
  done
}

status() {
  local port state
  for port in "${REDIS_PORTS[@]}"; do
    if running "$STATE/redis-$port/redis.pid" redis-server; then
      state=$(cluster_info "$port" | grep '^cluster_state:' || echo "cluster_state:unknown")
      say "redis   $HOST:$port  running (pid $(cat "$STATE/redis-$port/redis.pid")), $state"
    else
      say "redis   $HOST:$port  stopped"
    fi
  done
  for port in "${NODE_PORTS[@]}"; do
    if running "$STATE/wewatch-$port.pid" "$BIN"; then
      state=$(curl -s --max-time 1 "http://$HOST:$port/readyz" || echo "no answer")
      say "node    $HOST:$port  running (pid $(cat "$STATE/wewatch-$port.pid")), /readyz: $state"
    else
      say "node    $HOST:$port  stopped"
    fi
  done
  if running "$STATE/haproxy.pid" haproxy; then
    say "haproxy $HOST:$PROXY_PORT  running (pid $(cat "$STATE/haproxy.pid")); as it sees the nodes:"
    haproxy_sees | sed 's/^/          /'
  else
    say "haproxy $HOST:$PROXY_PORT  stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) restart ;;
  *) die "usage: deploy/cluster.sh start|stop|status|restart" ;;
esac
