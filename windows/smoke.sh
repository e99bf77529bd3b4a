#!/bin/sh
# windows/smoke.sh WINE DIST EMULATOR [EXE [NAME]]: start the Linux emulator on
# loopback, run windows/smoke.lua with Wine and the interpreter DIST/EXE
# (default lua.exe) against it, stop the emulator (only the process this
# script started, by its pid). Used by `make windows-smoke` and `make
# windows-dist-smoke`; the output is also kept in build/windows/NAME.log
# (default smoke.log), the files the suite writes in build/windows/NAME/.
set -u
wine=$1 dist=$2 emu=$3 exe=${4:-lua.exe} name=${5:-smoke}
out=$PWD/build/windows/$name
log=$PWD/build/windows/$name.log
[ -x "$wine" ] || { echo "windows-smoke: $wine missing (sh .ci/install-deps windows)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"

# A Wine prefix of its own (made on the first run, about 10 s), quiet, and
# no Gecko/Mono installer prompts. The Linux Lua paths must not reach lua.exe.
export WINEPREFIX="$PWD/build/windows/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4
if [ ! -d "$WINEPREFIX/drive_c" ]; then
    t0=$(date +%s)
    "$wine" wineboot --init >/dev/null 2>&1
    echo "windows-smoke: made the Wine prefix build/windows/wine in $(( $(date +%s) - t0 )) s"
fi

# A fast task clock: every task takes 5 service seconds, 0.05 s here; the
# client's pauses shrink to match (SEEDANCE_TIME_SCALE). Answers wait 20 ms, so
# transfers stay in flight across steps and sockets() has sockets to report.
"$emu" --host 127.0.0.1 --port 0 --speed 100 --task-seconds 5 --latency-ms 20 >"$out/emulator.log" 2>&1 </dev/null &
emu_pid=$!
trap 'kill "$emu_pid" 2>/dev/null; wait "$emu_pid" 2>/dev/null' EXIT
url=""
i=0
while [ $i -lt 1000 ]; do
    url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$out/emulator.log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$emu_pid" 2>/dev/null || break
    sleep 0.01
    i=$((i + 1))
done
if [ -z "$url" ]; then
    echo "windows-smoke: the emulator did not start:" >&2
    cat "$out/emulator.log" >&2
    exit 1
fi
export SEEDANCE_BASE_URL="$url" SEEDANCE_API_KEY=sk-windows-smoke SEEDANCE_TIME_SCALE=0.01

t0=$(date +%s)
"$wine" "$dist/$exe" windows/smoke.lua "$out" "$PWD/$dist" "$exe" >"$log" 2>&1
rc=$?
cat "$log"
echo "windows-smoke: $dist/$exe: exit $rc in $(( $(date +%s) - t0 )) s (log: build/windows/$name.log)"
exit $rc
