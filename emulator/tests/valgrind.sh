#!/bin/sh
# Run seedance-emulator under valgrind (memcheck, leaks), drive every endpoint
# once with curl (submits, replays, a rejected body, polls, media with ranges,
# uploads, balance, stats, the rate limit), stop it with SIGTERM, and print
# the exit status and valgrind's summary. Extra arguments go to the emulator:
#   sh emulator/tests/valgrind.sh --max-tasks 2 --rpm 20 --video-bytes 100000
#   sh emulator/tests/valgrind.sh --latency-ms 10 --error-rate 0.3 --drop-rate 0.1 --fault-seed 5
set -u
cd "$(dirname "$0")/../.."
log=$(mktemp); vlog=$(mktemp); png=$(mktemp); urlf=$(mktemp)
valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect --error-exitcode=9 --log-file=$vlog build/seedance-emulator --speed 1e5 "$@" > $log 2>&1 &
pid=$!
i=0; until grep -q listening $log || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done
U=$(sed -n 's/^listening on //p' $log)
A='Authorization: Bearer k'
for n in 1 2 3; do
T=$(curl -s -X POST $U/v1/videos/generations -H "$A" -H "Idempotency-Key: i$n" -d '{"model":"doubao-seedance-2.0","prompt":"x","return_last_frame":true,"size":"9:16"}' | sed 's/.*task_id":"\([^"]*\)".*/\1/')
curl -s -X POST $U/v1/videos/generations -H "$A" -H "Idempotency-Key: i$n" -d '{"model":"doubao-seedance-2.0","prompt":"x"}' >/dev/null
done
curl -s -X POST $U/v1/videos/generations -H "$A" -d '{"model":"bad","seed":null,"image_urls":[1,2]}' >/dev/null
curl -s -X POST $U/v1/videos/generations -H "$A" -d 'nope' >/dev/null
sleep 0.3
curl -s "$U/v1/tasks/$T?language=zh" -H "$A" > /dev/null
curl -s "$U/v1/tasks/nope" -H "$A" > /dev/null
curl -s "$U/media/$T.mp4" -o /dev/null; curl -s "$U/media/$T.mp4" -H 'Range: bytes=10-20' -o /dev/null; curl -s "$U/media/$T.png" -o /dev/null
curl -s "$U/media/$T.mp4" -H 'Range: bytes=999999-' -o /dev/null
printf '\211PNG\r\n\032\nabc' > $png; curl -s -F file=@$png $U/v1/uploads/images -H "$A" | sed 's/.*"url":"\([^"]*\)".*/\1/' > $urlf
curl -s "$(cat $urlf)" -o /dev/null
curl -s -F file=@/etc/hostname $U/v1/uploads/images -H "$A" > /dev/null
curl -s $U/v1/balance -H "$A" > /dev/null; curl -s $U/v1/balance > /dev/null; curl -s $U/_emulator/stats >/dev/null
for n in 1 2 3 4 5 6 7 8; do curl -s $U/v1/balance -H "$A" -o /dev/null; done
kill $pid; wait $pid; echo "exit=$?"
grep -E "definitely|indirectly|possibly|ERROR SUMMARY" $vlog
rm -f $log $vlog $png $urlf
