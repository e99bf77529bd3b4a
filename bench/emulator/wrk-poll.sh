#!/bin/sh
# Emulator capacity: GET /v1/tasks/{id} per second with wrk (keep-alive),
# 2 threads, 200 connections, 10 s, against a freshly started emulator.
#   sh bench/emulator/wrk-poll.sh [SECONDS] [CONNECTIONS] [running|completed]
# The task polled is still running (a short answer) by default; `completed`
# polls a finished one (the full answer with result URLs).
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${2:-200}
state=${3:-running}
speed=1
[ "$state" = completed ] && speed=1000000
log=$(mktemp)
build/seedance-emulator --port 0 --speed "$speed" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
i=0
while ! grep -q '^listening on' "$log" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
url=$(sed -n 's/^listening on //p' "$log")
id=$(curl -s "$url/v1/videos/generations" -H 'Authorization: Bearer sk-bench' \
    -d '{"model":"doubao-seedance-2.0","prompt":"bench"}' | sed 's/.*"task_id":"\([^"]*\)".*/\1/')
sleep 0.1
echo "emulator $url, $state task $id, wrk -t2 -c$conns -d${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" -H 'Authorization: Bearer sk-bench' "$url/v1/tasks/$id"
