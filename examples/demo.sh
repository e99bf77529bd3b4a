#!/bin/sh
# The README's main job (`make demo`): generate a video from a prompt with the
# seedance command and its progress bar, and save it under out/.
# Against a local seedance-emulator by default; against the real service when
# SEEDANCE_API_KEY is set and SEEDANCE_BASE_URL does not point elsewhere
# (SEEDANCE_DEMO_EMULATOR=1 forces the emulator).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;;"
export LUA_CPATH="$top/build/?.so;;"
prompt=${PROMPT:-"小猫对着镜头打哈欠 (a kitten yawns at the camera)"}
# The demo replaces its own video on every run (--force: the command refuses an existing -o file).
out=${OUT:-out/demo.mp4}
mkdir -p "$(dirname "$out")"

if [ -n "${SEEDANCE_API_KEY:-}" ] && [ -z "${SEEDANCE_BASE_URL:-}" ] && [ -z "${SEEDANCE_DEMO_EMULATOR:-}" ]; then
    echo "demo: SEEDANCE_API_KEY is set, so this talks to the real service (https://xcompute.us)"
    exec lua5.4 bin/seedance generate --model doubao-seedance-2.0 --prompt "$prompt" \
        --resolution 720p --duration 5 --force -o "$out"
fi

speed=${SPEED:-20}
log=$(mktemp)
build/seedance-emulator --host 127.0.0.1 --port 0 --speed "$speed" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT INT TERM
url=""
i=0
while [ $i -lt 100 ]; do
    url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "demo: the emulator did not start" >&2; exit 1; }
    sleep 0.1
    i=$((i + 1))
done
[ -n "$url" ] || { echo "demo: the emulator did not say where it listens" >&2; exit 1; }
echo "demo: seedance-emulator listening on $url (no key, no network, no bill)"

SEEDANCE_BASE_URL=$url SEEDANCE_API_KEY=${SEEDANCE_EMULATOR_KEY:-sk-demo} \
SEEDANCE_TIME_SCALE=$(awk "BEGIN { print 1 / $speed }") \
    lua5.4 bin/seedance generate --model doubao-seedance-2.0 --prompt "$prompt" \
        --resolution 720p --size 16:9 --duration 5 --force -o "$out"

if command -v ffprobe >/dev/null 2>&1; then
    ffprobe -v error -show_entries format=duration:stream=codec_name,width,height -of default=nw=1 "$out" |
        tr '\n' ' ' | sed 's/^/demo: ffprobe: /'
    echo
fi
echo "demo: done: $out"
