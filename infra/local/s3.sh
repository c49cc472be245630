#!/usr/bin/env bash
# A real S3 server for tests: a single-node Ceph cluster (one ceph-mon, one ceph-osd on memstore,
# one radosgw with the beast frontend), everything on 127.0.0.1, all state in one directory.
#
# Usage:
#   bash infra/local/s3.sh up     start (idempotent), create the user and bucket, print the settings
#   bash infra/local/s3.sh env    print the settings of the running server (exit 1 if not running)
#   bash infra/local/s3.sh down   stop the daemons by PID and delete the state dir (idempotent)
#
# `up` and `env` print exactly these lines on stdout (all progress goes to stderr):
#   S3_ENDPOINT=http://127.0.0.1:PORT
#   S3_REGION=us-east-1
#   S3_BUCKET=edge-ranges
#   S3_ACCESS_KEY_ID=...
#   S3_SECRET_ACCESS_KEY=...
#   S3_FORCE_PATH_STYLE=true
# each prefixed with `export `, so that  eval "$(npm run -s s3:up)"  configures a shell for
# `npm run start:node`.
#
# Environment:
#   S3_STATE_DIR   state dir (default <repo>/.local/ceph). Each dir is an independent server with its
#                  own ports, so several can run at once.
#   S3_BUCKET      bucket to create (default edge-ranges). `up` on a running server with another
#                  S3_BUCKET creates that bucket too and prints it.
#   S3_MEMSTORE_MIB  object data capacity in MiB (default 2048). Objects live in the OSD's memory
#                  (memstore), which costs about twice their size in RAM, and are gone after `down`.
#                  When it is full, writes block (Ceph pauses them) rather than fail: down, then up.
#
# Needs the Debian packages radosgw ceph-mon ceph-osd ceph-common (Ceph 16), curl, and the repo's
# node_modules (the bucket is created through @aws-sdk/client-s3). Running as root is expected.
#
# curl against it: curl --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
#   -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$S3_ENDPOINT/$S3_BUCKET/KEY"
# (without that header radosgw answers 403 SignatureDoesNotMatch to curl 7.88).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE_DIR=$(realpath -m "${S3_STATE_DIR:-$REPO/.local/ceph}")
BUCKET=${S3_BUCKET:-edge-ranges}
REGION=us-east-1
CONF=$STATE_DIR/ceph.conf
# Object data lives in the OSD's memory, capped at this many bytes (a few 256-300 MiB test objects
# fit below the 95% full ratio). The OSD's RSS grows by about twice the bytes stored.
MEMSTORE_MIB=${S3_MEMSTORE_MIB:-2048}
START_TIMEOUT=90          # seconds until radosgw must answer HTTP
DAEMONS=(mon osd rgw)     # in start order
RGW_USER=edge-ranges-test
# Written first into a new state dir: `down` deletes only directories that carry it.
MARKER=.edge-ranges-s3-state

# fd 3 is the real stdout, reserved for the settings lines; everything else goes to stderr.
exec 3>&1 1>&2

log() { printf 's3.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need_tools() {
  local tool
  for tool in ceph-mon ceph-osd radosgw radosgw-admin; do
    command -v "$tool" >/dev/null ||
      die "$tool not found: apt-get install radosgw ceph-mon ceph-osd ceph-common"
  done
  for tool in ceph ceph-authtool monmaptool; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install ceph-common"
  done
  command -v curl >/dev/null || die "curl not found: apt-get install curl"
  [[ -x $REPO/node_modules/.bin/tsx ]] ||
    die "$REPO/node_modules/.bin/tsx not found: run npm ci in $REPO"
}

new_uuid() {
  if command -v uuidgen >/dev/null; then uuidgen; else cat /proc/sys/kernel/random/uuid; fi
}

# Random alphanumeric string of length $1 (S3 access keys and secrets).
random_string() {
  local s
  s=$(head -c 1024 /dev/urandom | tr -dc 'A-Za-z0-9')   # ~250 characters left
  printf '%s' "${s:0:$1}"
}

# ---------------------------------------------------------------------------------------------
# Processes. Daemons run in the foreground (-f) in their own session, so our PID file holds the
# daemon's real PID and a Ctrl-C in the caller's terminal does not reach them.

pid_file() { echo "$STATE_DIR/run/$1.pid"; }

# Is PID $1 one of our daemons? Checking the command line (it names our ceph.conf) guards against
# a recycled PID, so we never signal a process we did not start. Zombies have an empty cmdline.
is_ours() {
  local cmdline
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ $cmdline == *"$CONF"* ]]
}

daemon_pid() {
  local pid
  pid=$(cat "$(pid_file "$1")" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" && echo "$pid"
}

# The daemon must not inherit fd 3 (our stdout: `$(s3.sh up)` would wait for it to close) or
# fd 9 (the lock: it would stay locked for the daemon's lifetime).
start_daemon() {
  local name=$1; shift
  setsid "$@" -f -c "$CONF" </dev/null >"$STATE_DIR/log/$name.out" 2>&1 3>&- 9>&- &
  echo $! >"$(pid_file "$name")"
  disown "$!"   # so bash prints no "Killed" job notice when we stop it after a failed start
}

# Stop in reverse start order, one after the other: radosgw shuts down cleanly in under a second
# while the OSD and the monitor still answer; signalled all at once it hung for 5-10 s.
stop_daemons() {
  stop_daemon rgw TERM
  # The OSD's data is in memory and about to be deleted; on SIGTERM memstore would first write
  # every object into the state dir.
  stop_daemon osd KILL
  stop_daemon mon TERM
}

# Signal one daemon and wait for it to exit, with SIGKILL after 10 s.
stop_daemon() {
  local name=$1 signal=$2 pid i
  pid=$(daemon_pid "$name") || return 0
  log "stopping $name (pid $pid)"
  kill "-$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    is_ours "$pid" || return 0
    sleep 0.1
  done
  log "$name (pid $pid) still running after 10 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_ours "$pid" || return 0
    sleep 0.1
  done
  die "could not stop $name (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Ports. Random, below the kernel's ephemeral range (32768+) so outgoing connections do not take
# them, away from the usual service ports, and checked to be free right before use.

port_is_free() {
  if command -v ss >/dev/null; then
    [[ -z $(ss -Htln "sport = :$1") ]]
  else
    # Without ss: taken if something accepts a connection there.
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 1; fi
  fi
}

pick_port() {
  local port _
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    [[ " $* " == *" $port "* ]] && continue   # not one we already picked
    port_is_free "$port" && { echo "$port"; return; }
  done
  die "no free port found in 20000-31999"
}

# ---------------------------------------------------------------------------------------------
# Cluster setup.

write_conf() {
  local fsid=$1 mon_port=$2 rgw_port=$3
  # \$name and \$cluster are Ceph's own metavariables, expanded per daemon.
  cat >"$CONF" <<EOF
# Generated by infra/local/s3.sh: a throwaway single-node cluster for tests.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# msgr2 only: the legacy v1 protocol would open a second port per messenger.
ms bind msgr1 = false
# cephx is required: with auth "none" the daemons fail at start.
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
# One keyring holds every entity's key; the cluster lives and dies with this directory.
keyring = $STATE_DIR/keyring
# Nothing under /var or /etc.
run dir = $STATE_DIR/run
admin socket = $STATE_DIR/run/\$name.asok
log file = $STATE_DIR/log/\$name.log
mon cluster log file = $STATE_DIR/log/cluster.log
crash dir = $STATE_DIR/crash
# One OSD: one replica, placement across OSDs rather than hosts, few PGs, no autoscaler (there is
# no mgr), and room for radosgw's ~7 pools.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
# radosgw's first start creates ~6 pools, each a few osdmap changes; the monitor batches changes
# for 1 s by default, which alone made startup take ~12 s.
paxos propose interval = 0.05
paxos min wait = 0.01
auth allow insecure global id reclaim = false

[mon]
mon data = $STATE_DIR/mon

[osd]
osd data = $STATE_DIR/osd
osd objectstore = memstore
memstore device bytes = $((MEMSTORE_MIB * 1024 * 1024))

[client.rgw]
rgw data = $STATE_DIR/rgw
# tcp_nodelay: beast writes headers and body apart; without it a small body on a keep-alive
# connection waits ~40 ms for the client's delayed ACK (Nagle). Set it on any RGW you run.
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
# Objects that are overwritten or deleted leave their data to the garbage collector, which by
# default waits 2 h; collect after a minute so repeated test uploads do not fill the memstore.
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF
}

# Keys for the monitor, the admin CLI, the OSD and radosgw. `ceph-mon --mkfs` imports the whole
# keyring with its caps, so no `ceph auth add` round trips are needed later.
write_keyring() {
  local k=$STATE_DIR/keyring
  ceph-authtool --create-keyring "$k" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$k" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$k" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$k" --gen-key -n client.rgw \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
}

make_mon() {
  local fsid=$1 mon_port=$2
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
    "$STATE_DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$STATE_DIR/monmap" \
    --keyring "$STATE_DIR/keyring" >"$STATE_DIR/log/mon-mkfs.out" 2>&1 ||
    fail_start "ceph-mon --mkfs failed" "$STATE_DIR/log/mon-mkfs.out"
}

# Register osd.0 with the running monitor and format its (in-memory) store.
make_osd() {
  local osd_uuid
  osd_uuid=$(new_uuid)
  ceph -c "$CONF" -n client.admin --connect-timeout 20 osd new "$osd_uuid" 0 \
    >"$STATE_DIR/log/osd-new.out" 2>&1 ||
    fail_start "ceph osd new failed" "$STATE_DIR/log/osd-new.out" "$STATE_DIR/log/mon.a.log"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$STATE_DIR/log/osd-mkfs.out" 2>&1 ||
    fail_start "ceph-osd --mkfs failed" "$STATE_DIR/log/osd-mkfs.out"
}

# Wait until radosgw answers HTTP at all (any status); fail early if a daemon died.
wait_for_rgw() {
  local endpoint=$1 deadline=$((SECONDS + START_TIMEOUT)) name
  until curl -s -o /dev/null --max-time 2 "$endpoint/"; do
    for name in "${DAEMONS[@]}"; do
      daemon_pid "$name" >/dev/null ||
        fail_start "$name exited during startup" "$STATE_DIR/log/$name.out" "$(daemon_log "$name")"
    done
    ((SECONDS < deadline)) ||
      fail_start "radosgw did not answer on $endpoint within ${START_TIMEOUT}s" \
        "$(daemon_log osd)" "$(daemon_log rgw)"
    sleep 0.2
  done
}

daemon_log() {
  case $1 in
    mon) echo "$STATE_DIR/log/mon.a.log" ;;
    osd) echo "$STATE_DIR/log/osd.0.log" ;;
    rgw) echo "$STATE_DIR/log/client.rgw.log" ;;
  esac
}

create_user() {
  local access_key=$1 secret_key=$2
  radosgw-admin -c "$CONF" -n client.admin user create --uid="$RGW_USER" \
    --display-name="edge-ranges tests" --access-key="$access_key" --secret="$secret_key" \
    >"$STATE_DIR/log/user-create.out" 2>&1 ||
    fail_start "radosgw-admin user create failed" "$STATE_DIR/log/user-create.out"
}

# Through the S3 API, as a client would; idempotent.
create_bucket() {
  local settings=$1
  # NODE_NO_WARNINGS: the SDK warns on every start that it will need Node 22 from 2027.
  (set -a; eval "$settings"; NODE_NO_WARNINGS=1 exec "$REPO/node_modules/.bin/tsx" \
    "$REPO/infra/local/create-bucket.ts")
}

# Startup failed: show why and exit non-zero; the EXIT trap then stops what we started.
fail_start() {
  local msg=$1 f; shift
  log "$msg"
  for f in "$@"; do
    [[ -s $f ]] || continue
    log "---- last lines of $f"
    tail -n 25 "$f" >&2
  done
  exit 1
}

# EXIT trap while starting: on any failure (fail_start, a failing command under set -e, Ctrl-C)
# stop the daemons started so far. The logs stay for a look; the next `up` sees the dead PIDs and
# starts from scratch.
abort_start() {
  local status=$?
  ((status == 0)) && return
  trap - EXIT
  stop_daemons || true
  log "startup failed; logs are in $STATE_DIR/log"
  exit "$status"
}

# ---------------------------------------------------------------------------------------------
# State.

settings_file() { echo "$STATE_DIR/settings.env"; }
# The settings on stdout, as `export S3_...=...` lines: `eval "$(npm run -s s3:up)"` then
# configures the shell and the programs it starts (npm run start:node).
print_settings() { sed 's/^/export /' "$(settings_file)" >&3; }

settings_value() { sed -n "s/^$1=//p" "$(settings_file)"; }

is_running() {
  local name
  [[ -f $(settings_file) ]] || return 1
  for name in "${DAEMONS[@]}"; do
    daemon_pid "$name" >/dev/null || return 1
  done
  curl -s -o /dev/null --max-time 2 "$(settings_value S3_ENDPOINT)/"
}

# Delete the state dir, but only one this script created (or an empty one).
remove_state() {
  [[ -d $STATE_DIR ]] || return 0
  if [[ -f $STATE_DIR/$MARKER || -z $(ls -A "$STATE_DIR") ]]; then
    rm -rf "$STATE_DIR"
  else
    die "$STATE_DIR was not created by this script; not deleting it"
  fi
}

# Serialise up/down (e.g. parallel test runners) with a lock on the state dir's parent directory:
# the state dir itself comes and goes, and a lock file would be left behind. Servers whose state
# dirs share a parent just take turns starting; they still run side by side.
lock_state() {
  command -v flock >/dev/null || return 0
  local parent
  parent=$(dirname "$STATE_DIR")
  mkdir -p "$parent"
  exec 9<"$parent"
  flock -w 300 9 || die "another s3.sh still holds the lock on $parent after 300 s"
}

# ---------------------------------------------------------------------------------------------
# Commands.

cmd_up() {
  need_tools
  [[ $MEMSTORE_MIB =~ ^[1-9][0-9]*$ ]] || die "S3_MEMSTORE_MIB must be a number of MiB"
  [[ $BUCKET =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "S3_BUCKET is not a valid bucket name"
  lock_state
  if is_running; then
    log "already running in $STATE_DIR"
    if [[ $(settings_value S3_BUCKET) != "$BUCKET" ]]; then
      local settings
      settings=$(sed "s/^S3_BUCKET=.*/S3_BUCKET=$BUCKET/" "$(settings_file)")
      create_bucket "$settings"
      printf '%s\n' "$settings" >"$(settings_file)"
    fi
    print_settings
    return
  fi
  if [[ -d $STATE_DIR ]]; then
    log "stale state in $STATE_DIR: cleaning up"
    stop_daemons
    remove_state
  fi
  start_cluster
}

start_cluster() {
  local started=$SECONDS fsid mon_port rgw_port endpoint access_key secret_key settings
  trap abort_start EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$STATE_DIR"
  touch "$STATE_DIR/$MARKER"
  mkdir -p "$STATE_DIR"/{run,log,crash,mon,osd,rgw}

  fsid=$(new_uuid)
  mon_port=$(pick_port)
  rgw_port=$(pick_port "$mon_port")
  endpoint=http://127.0.0.1:$rgw_port
  log "starting Ceph in $STATE_DIR (mon port $mon_port, radosgw port $rgw_port)"

  write_conf "$fsid" "$mon_port" "$rgw_port"
  write_keyring
  make_mon "$fsid" "$mon_port"
  start_daemon mon ceph-mon -i a
  make_osd
  start_daemon osd ceph-osd -i 0
  # radosgw waits by itself until the OSD is up and its pools can be created.
  start_daemon rgw radosgw -n client.rgw
  wait_for_rgw "$endpoint"

  access_key=$(random_string 20)
  secret_key=$(random_string 40)
  create_user "$access_key" "$secret_key"
  settings="S3_ENDPOINT=$endpoint
S3_REGION=$REGION
S3_BUCKET=$BUCKET
S3_ACCESS_KEY_ID=$access_key
S3_SECRET_ACCESS_KEY=$secret_key
S3_FORCE_PATH_STYLE=true"
  create_bucket "$settings" ||
    fail_start "creating bucket $BUCKET failed" "$(daemon_log rgw)"
  printf '%s\n' "$settings" >"$(settings_file)"
  trap - EXIT INT TERM
  log "ready in $((SECONDS - started))s"
  print_settings
}

cmd_env() {
  is_running || die "not running (state dir $STATE_DIR)"
  print_settings
}

cmd_down() {
  lock_state
  stop_daemons
  remove_state
  log "down ($STATE_DIR removed)"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  *) die "usage: $0 up|down|env" ;;
esac
