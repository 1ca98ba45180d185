#!/usr/bin/env bash
# Build the Dockerfile with podman and prove the image: it becomes ready, serves the web page,
# runs a short stream session, and refuses to start in production without a database.
#
#   bash deploy/build.sh                   # bootstrap a Debian base, build, check
#   BASE=python:3.11-slim bash deploy/build.sh   # where a registry is reachable
#
# Settings (environment): IMAGE (localhost/coach:latest), BASE (unset: bootstrap one with
# mmdebstrap as BASE_IMAGE, localhost/coach-base:bookworm, reused when present unless
# REBUILD_BASE=1), RUN_MODE (auto | podman | chroot), PYTHON (python3: runs the checks, needs
# `websockets`), CHECK_SECONDS (6: audio streamed in the session check), READY_TIMEOUT (300),
# LOG_DIR (unset: the server's and the steps' logs are copied there at exit).
# Prints `coach-container: all checks passed` last when every check passed. See
# deploy/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/coach:latest}
BASE_IMAGE=${BASE_IMAGE:-localhost/coach-base:bookworm}
RUN_MODE=${RUN_MODE:-auto}
PYTHON=${PYTHON:-python3}
CHECK_SECONDS=${CHECK_SECONDS:-6}
READY_TIMEOUT=${READY_TIMEOUT:-300}
SUITE=bookworm
# vfs works in any filesystem and needs no kernel overlay support, at the price of disk
podman=(podman --storage-driver vfs)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'coach-container: FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

command -v podman >/dev/null || die "podman is missing (apt-get install -y podman)"
"$PYTHON" -c 'import websockets' 2>/dev/null \
  || die "$PYTHON cannot import websockets (the checks' WebSocket client)"

work=$(mktemp -d)
server_pid=""
container=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$container" ]; then
    "${podman[@]}" rm -f "$container" >/dev/null 2>&1 || true
  fi
  if [ -n "${LOG_DIR:-}" ]; then
    mkdir -p "$LOG_DIR" && cp "$work"/*.log "$LOG_DIR"/ 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

declare -A figures=()

# ---------------------------------------------------------------------------------------------
# 1. The base image

# The Debian mirrors apt already uses here (a machine without internet may only reach those).
apt_mirror() {  # $1: the suite's codename as apt reports it (n=…)
  apt-cache policy 2>/dev/null | awk -v want="n=$1," '
    /^ *[0-9]+ (https?|file):/ { url = $2; next }
    /release / && index($0, want) && index($0, "o=Debian,") { print url; exit }'
}

bootstrap_base() {
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install -y mmdebstrap)"
  local main security sources=()
  main=${MIRROR:-$(apt_mirror "$SUITE")}
  main=${main:-http://deb.debian.org/debian}
  security=${SECURITY_MIRROR:-$(apt_mirror "$SUITE-security")}
  sources+=("deb $main $SUITE main" "deb $main $SUITE-updates main")
  [ -n "$security" ] && sources+=("deb $security $SUITE-security main")
  log "bootstrapping Debian $SUITE with Python 3.11 from $main"
  local t0; t0=$(now)
  # Debian's python3 is 3.11 in bookworm; a venv on PATH gives the `python` and `pip` the
  # Dockerfile expects, and keeps pip away from the system's packages (PEP 668).
  mmdebstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    --customize-hook='chroot "$1" python3 -m venv /opt/venv' \
    --customize-hook='chroot "$1" /opt/venv/bin/pip --version' \
    "$SUITE" "$work/base.tar" "${sources[@]}" >"$work/mmdebstrap.log" 2>&1 \
    || { tail -n 30 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
  "${podman[@]}" import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python"]' \
    "$work/base.tar" "$BASE_IMAGE" >/dev/null
  rm -f "$work/base.tar"
  figures[base_seconds]=$(since "$t0")
  log "base image $BASE_IMAGE in ${figures[base_seconds]} s"
}

if [ -n "${BASE:-}" ]; then
  base=$BASE
elif [ "${REBUILD_BASE:-0}" != 1 ] && "${podman[@]}" image exists "$BASE_IMAGE"; then
  base=$BASE_IMAGE
  log "reusing base image $BASE_IMAGE (REBUILD_BASE=1 to bootstrap it again)"
else
  bootstrap_base
  base=$BASE_IMAGE
fi

# ---------------------------------------------------------------------------------------------
# 2. The build, with this machine's pip configuration

# pip inside the build must reach the same package index as pip here: its configuration
# (files and PIP_* variables, merged as pip sees them) becomes the build's /etc/pip.conf, and
# every local path it names (CA bundle, constraints, local indexes) is mounted read-only under
# /run/coach-build. The image keeps only the empty mount points (buildah creates them).
"$PYTHON" - "$work" >"$work/mounts" <<'PY'
import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

work = Path(sys.argv[1])
out = subprocess.run(
    [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
).stdout
merged: dict[str, dict[str, str]] = {}
env: dict[str, str] = {}
for line in out.splitlines():
    key, _, value = line.partition("=")
    section, _, name = key.partition(".")
    try:
        value = str(ast.literal_eval(value))  # pip prints each value's repr
    except (ValueError, SyntaxError):
        continue
    if section == ":env:":
        env[name] = value  # PIP_* variables win over files, as in pip
    elif name:
        merged.setdefault(section, {})[name] = value
merged.setdefault("global", {}).update(env)
bundle = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
    "SSL_CERT_FILE"
)
if bundle and "cert" not in merged["global"]:
    merged["global"]["cert"] = bundle


def local(token: str, name: str) -> Path | None:
    """The host path a setting's word names, if it is one that exists."""
    if not token.startswith(("/", "file://")):
        return None
    path = Path(token.removeprefix("file://"))
    # a local index's pages link to files beside it (../../files/...)
    if name in ("index-url", "extra-index-url") and path.name == "simple":
        path = path.parent
    return path if path.exists() else None


wanted = {
    path
    for section in merged.values()
    for name, value in section.items()
    for token in value.split()
    if (path := local(token, name)) is not None
}
tops = sorted(p for p in wanted if not any(parent in wanted for parent in p.parents))
inside = {host: Path(f"/run/coach-build/{i}") for i, host in enumerate(tops)}


def moved(token: str) -> str:
    scheme = "file://" if token.startswith("file://") else ""
    path = Path(token.removeprefix(scheme))
    for host, there in inside.items():
        if path == host or host in path.parents:
            return scheme + str(there / path.relative_to(host))
    return token


for section in merged.values():
    for name, value in section.items():
        section[name] = " ".join(moved(t) for t in value.split())
conf = configparser.ConfigParser(interpolation=None)
conf.read_dict(merged)
with open(work / "pip.conf", "w") as f:
    conf.write(f)
print(f"{work / 'pip.conf'}:/etc/pip.conf:ro")
for host, there in inside.items():
    print(f"{host.resolve()}:{there}:ro")
PY
mounts=()
while IFS= read -r m; do mounts+=(-v "$m"); done <"$work/mounts"
log "pip configuration for the build: $(grep -c . "$work/mounts") mount(s)"

log "building $IMAGE from BASE=$base (isolation chroot, vfs storage)"
t0=$(now)
"${podman[@]}" build --isolation chroot --build-arg "BASE=$base" "${mounts[@]}" \
  -f Dockerfile -t "$IMAGE" . || die "podman build failed"
figures[build_seconds]=$(since "$t0")
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$IMAGE")
figures[image_mb]=$(awk -v s="$size" 'BEGIN { printf "%.0f", s / 1e6 }')
log "built $IMAGE in ${figures[build_seconds]} s, ${figures[image_mb]} MB"

# ---------------------------------------------------------------------------------------------
# 3. Running the image's own command

inspect() { "${podman[@]}" image inspect --format "$1" "$IMAGE"; }
[ "$(inspect '{{json .Config.Cmd}}')" = '["coach","serve"]' ] || die "CMD is not coach serve"
image_user=$(inspect '{{.Config.User}}')
case "${image_user%%:*}" in "" | root | 0) die "the image runs as root" ;; esac

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
jwt_secret=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
data_key=$("$PYTHON" -c 'import coach.encryption as e; print(e.new_key_text())' 2>/dev/null \
  || "$PYTHON" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
secrets_env=(JWT_SECRET="$jwt_secret" DATA_ENCRYPTION_KEY="$data_key")
serve_env=(COACH_ENV=production ALLOW_MEMORY_STORE=true "${secrets_env[@]}")

if [ "$RUN_MODE" = auto ]; then
  # Some sandboxes refuse containers (no usable cgroups, no setrlimit); the chroot below then
  # runs the same files, command, environment, directory and user without a runtime.
  if "${podman[@]}" run --rm --entrypoint '["python", "-c", "pass"]' "$IMAGE" \
    >"$work/probe.log" 2>&1; then
    RUN_MODE=podman
  else
    log "podman run is refused here ($(tail -n 1 "$work/probe.log")); using chroot"
    RUN_MODE=chroot
  fi
fi
figures[run_mode]=$RUN_MODE

if [ "$RUN_MODE" = chroot ]; then
  [ "$(id -u)" = 0 ] || die "the chroot fallback needs root"
  container=$("${podman[@]}" create "$IMAGE")
  root=$("${podman[@]}" mount "$container")
  workdir=$(inspect '{{.Config.WorkingDir}}')
  mapfile -t image_env < <(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
  mapfile -t cmd < <(inspect '{{range .Config.Entrypoint}}{{println .}}{{end}}{{range .Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d')
  user=${image_user%%:*}
  if [[ $user =~ ^[0-9]+$ ]]; then
    entry=$(awk -F: -v u="$user" '$3 == u' "$root/etc/passwd")
  else
    entry=$(awk -F: -v u="$user" '$1 == u' "$root/etc/passwd")
  fi
  [ -n "$entry" ] || die "user $user is not in the image's /etc/passwd"
  IFS=: read -r _ _ uid gid _ home _ <<<"$entry"
  # as podman would: the image's environment, HOME from passwd, the host's name resolution
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  image_argv() {  # VAR=value...: the argv that runs CMD as the image would, in $argv
    argv=(unshare --mount --propagation private --fork --kill-child -- sh -c '
      root=$1; shift
      mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" \
        && mount --rbind /sys "$root/sys" && mount -t tmpfs tmpfs "$root/tmp" || exit 125
      exec chroot "$@"' sh "$root" --userspec="$uid:$gid" "$root"
      /usr/bin/env -i "${image_env[@]}" HOME="$home" "$@"
      /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "${cmd[@]}")
  }
  # chroot shares the host's network: keep the server on loopback, on a free port
  image_argv "${serve_env[@]}" HOST=127.0.0.1 PORT="$port"
  server_argv=("${argv[@]}")
  image_argv "${secrets_env[@]}" HOST=127.0.0.1 PORT="$port"
  refusal_argv=("${argv[@]}")
else
  env_flags() { local kv; for kv in "$@"; do printf -- '-e\0%s\0' "$kv"; done; }
  mapfile -d '' -t serve_flags < <(env_flags "${serve_env[@]}")
  mapfile -d '' -t refusal_flags < <(env_flags "${secrets_env[@]}")
  container=coach-check-$$
  server_argv=("${podman[@]}" run --rm --name "$container" -p "127.0.0.1:$port:3000"
    "${serve_flags[@]}" "$IMAGE")
  refusal_argv=("${podman[@]}" run --rm "${refusal_flags[@]}" "$IMAGE")
fi

log "starting the image's CMD ($RUN_MODE) on 127.0.0.1:$port"
t0=$(now)
set -m  # the server in a process group of its own, so cleanup stops all of it
"${server_argv[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
set +m

# The checks, from outside the container, as a client would.
if ! "$PYTHON" - "$port" "$server_pid" "$CHECK_SECONDS" "$READY_TIMEOUT" "$t0" \
  >"$work/checks.json" <<'PY'; then
import asyncio
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
import wave
from pathlib import Path

port, pid, seconds, timeout, t0 = sys.argv[1:]
base, started = f"127.0.0.1:{port}", float(t0)
result: dict[str, object] = {}


def get(path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"http://{base}{path}", timeout=10) as r:
            return r.status, r.headers.get("content-type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read().decode()


def post(path: str, body: dict[str, str]) -> dict[str, object]:
    req = urllib.request.Request(
        f"http://{base}{path}", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def fail(why: str) -> None:
    result["failed"] = why
    print(json.dumps(result))
    sys.exit(1)


# readiness: the models load at start in production, /health/ready waits for them
while True:
    if not Path(f"/proc/{pid}").exists():
        fail("the server exited before it was ready")
    try:
        if get("/health/ready")[0] == 200:
            break
    except OSError:
        pass
    if time.time() - started > float(timeout):
        fail(f"/health/ready not 200 after {timeout} s")
    time.sleep(0.25)
result["ready_seconds"] = round(time.time() - started, 1)

status, kind, body = get("/app")  # redirected to /app/
if status != 200 or "text/html" not in kind or "<html" not in body.lower():
    fail(f"/app answered {status} {kind}")
result["app"] = status

# a short stream session: sign up, stream a fixture at real-time pace, complete
fixture = Path("tests/fixtures/weakness.wav")
with wave.open(str(fixture)) as w:
    rate = w.getframerate()
    pcm = w.readframes(int(float(seconds) * rate))
pcm += bytes(int(1.0 * rate) * 2)  # a second of silence ends the utterance
email = f"container-{secrets.token_hex(4)}@example.com"
token = post("/api/auth/register", {"email": email, "password": secrets.token_urlsafe(18)})[
    "token"
]


async def session() -> None:
    from websockets.asyncio.client import connect

    frame = int(rate * 0.1) * 2
    events: list[dict[str, object]] = []
    async with connect(
        f"ws://{base}/", additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        await ws.send(json.dumps({"action": "start", "audio": {"sampleRate": rate}}))
        ready = json.loads(await ws.recv())
        if ready.get("type") != "ready":
            fail(f"start answered {ready}")
        clock = time.monotonic()
        for k, i in enumerate(range(0, len(pcm), frame)):
            await asyncio.sleep(max(0.0, clock + k * 0.1 - time.monotonic()))
            await ws.send(pcm[i : i + frame])
        await ws.send(json.dumps({"action": "complete"}))
        # the recording's final pass and the analysis come after `complete`; then the report
        async with asyncio.timeout(300):
            async for raw in ws:
                event = json.loads(raw)
                events.append(event)
                if event.get("type") in ("analysis_complete", "error"):
                    break
    kinds = [e.get("type") for e in events]
    errors = [e for e in events if e.get("type") == "error"]
    words = " ".join(str(e["text"]) for e in events if e.get("type") == "transcript").split()
    result["session"] = {"events": sorted(set(kinds)), "words": len(words)}
    if errors:
        fail(f"the session sent an error: {errors[0]}")
    if "session_complete" not in kinds or "analysis_complete" not in kinds or not words:
        fail("no transcript, session_complete or analysis_complete")


asyncio.run(session())
print(json.dumps(result))
PY
  tail -n 40 "$work/server.log" >&2
  die "checks: $(cat "$work/checks.json")"
fi
cat "$work/checks.json" >&2
figures[ready_seconds]=$("$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["ready_seconds"])' <"$work/checks.json")
session=$("$PYTHON" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["session"]))' <"$work/checks.json")
log "ready in ${figures[ready_seconds]} s; /app 200; stream session: $session"

# SIGTERM, as an orchestrator stops it: the server finishes and exits by itself
kill -TERM -- "-$server_pid"
t0=$(now)
wait "$server_pid" && stopped=0 || stopped=$?
figures[stop_seconds]=$(since "$t0")
server_pid=""
[ "$RUN_MODE" = chroot ] || container=""
# uvicorn re-raises SIGTERM after its clean shutdown: 143 unless it is PID 1 (podman), then 0
case "$stopped" in 0 | 143) ;; *) die "the server exited $stopped on SIGTERM" ;; esac
grep -q "Application shutdown complete" "$work/server.log" \
  || die "the server did not shut down cleanly on SIGTERM"
log "stopped on SIGTERM in ${figures[stop_seconds]} s (exit $stopped, clean shutdown)"

# production without a database refuses to start, and says which setting is missing
log "starting without MONGODB_URI or ALLOW_MEMORY_STORE (must refuse)"
refused=0
timeout 120 "${refusal_argv[@]}" >"$work/refusal.log" 2>&1 || refused=$?
if [ "$refused" = 0 ] || [ "$refused" = 124 ] || ! grep -q MONGODB_URI "$work/refusal.log"; then
  cat "$work/refusal.log" >&2
  die "the production image started without a database (exit $refused)"
fi
log "refused with exit $refused: $(grep -m1 MONGODB_URI "$work/refusal.log")"

cat <<EOF
coach-container: image=$IMAGE base=$base run_mode=${figures[run_mode]}
coach-container: base_seconds=${figures[base_seconds]:-reused} build_seconds=${figures[build_seconds]} image_mb=${figures[image_mb]}
coach-container: ready_seconds=${figures[ready_seconds]} stop_seconds=${figures[stop_seconds]} stop_exit=$stopped refusal_exit=$refused
coach-container: session=$session
coach-container: all checks passed
EOF
