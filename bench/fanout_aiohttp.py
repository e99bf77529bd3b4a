"""B1 peer: the same fan-out as bench/fanout.lua with Python asyncio + aiohttp,
the way Python SDKs do it: CONCURRENCY worker coroutines, each submits, then
polls the task at a fixed interval until it ends.

    /usr/bin/python3 bench/fanout_aiohttp.py URL TASKS CONCURRENCY POLL_SECONDS

One connection pool of 32 per host (seedance's engine default). Prints wall
and CPU seconds, tasks and peak RSS as one JSON line.
"""
import asyncio
import json
import resource
import sys
import time

import aiohttp


async def main(url, total, conc, poll):
    state = {"next": 0, "done": 0, "failed": 0}
    headers = {"Authorization": "Bearer sk-bench"}
    body = {"model": "doubao-seedance-2.0", "prompt": "bench fan-out", "duration": 5}
    conn = aiohttp.TCPConnector(limit=0, limit_per_host=32)
    async with aiohttp.ClientSession(connector=conn, headers=headers) as session:
        async def one():
            async with session.post(url + "/v1/videos/generations", json=body) as r:
                answer = await r.json()
                if r.status != 200:
                    raise RuntimeError("submit: %d %s" % (r.status, answer))
            task_id = answer["data"][0]["task_id"]
            while True:
                async with session.get(url + "/v1/tasks/" + task_id) as r:
                    task = await r.json()
                status = task["data"]["status"] if "data" in task else task.get("status")
                if status == "completed":
                    return
                if status in ("failed", "cancelled"):
                    raise RuntimeError("task " + status)
                await asyncio.sleep(poll)

        async def worker():
            while state["next"] < total:
                state["next"] += 1
                try:
                    await one()
                    state["done"] += 1
                except Exception as e:  # noqa: BLE001 - counted and reported
                    state["failed"] += 1
                    if state["failed"] < 5:
                        print(e, file=sys.stderr)

        await asyncio.gather(*(worker() for _ in range(conc)))
    return state


if __name__ == "__main__":
    url, total, conc, poll = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    t0 = time.monotonic()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    state = asyncio.run(main(url, total, conc, poll))
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"tasks": total, "done": state["done"], "failed": state["failed"], "wall": wall,
                      "cpu": cpu, "hwm_kib": r1.ru_maxrss, "tasks_per_s": state["done"] / wall}))
    sys.exit(0 if state["failed"] == 0 else 1)
