/*
 * engine_loop.h: what the files of the engine's loop share, and nothing else
 * includes. engine_loop.c (the pools of easy handles, starting and finishing
 * transfers, the step and its budget) and engine_window.c (the request
 * windows' queues) call engine_ids.c (the id table and the result queue),
 * engine_poll.c (the sockets and timer libcurl asks to have watched, and the
 * Redis connections polled beside them) and engine_watch.c (the watches'
 * polls); engine_watch.c calls back into engine_window.c only to put a poll
 * in its window.
 */
#ifndef SD_ENGINE_LOOP_H
#define SD_ENGINE_LOOP_H

#include "engine_int.h"
#include "platform.h"

/* Monotonic microseconds. The timer is kept in microseconds: libcurl rounds
 * its timeouts up to whole ms, so the deadline we derive is never before its
 * own, and a timeout action never runs early (an early one would leave
 * libcurl believing it had told us about a timer it still owes). */
static inline long long sd_now_us(void) {
    return sd_clock_us();
}

/* ---- engine_ids.c: the id table and the result queue ---- */

/* Give a node the next id and enter it into the id table. */
void sd_engine_track(sd_engine *e, sd_qnode *n, int kind);
/* Enter a node into the id table under the id it has. */
void sd_engine_track_as(sd_engine *e, sd_qnode *n, long long id, int kind);
/* Take a node out of the id table (one never entered: nothing happens). */
void sd_untrack(sd_engine *e, sd_qnode *n);
/* Append a result or event to the queue. */
void sd_engine_queue(sd_engine *e, sd_qnode *n);
/* Take a node out of the queue wherever it stands (one not in it: nothing happens). */
void sd_unqueue(sd_engine *e, sd_qnode *n);

/* ---- engine_poll.c: libcurl's sockets and timer, the Redis connections ---- */

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
int sd_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp);
/* CURLMOPT_TIMERFUNCTION: remember when libcurl wants its timeout action. */
int sd_timer_cb(CURLM *multi, long timeout_ms, void *userp);
/* Whether a Redis connection waits for replies (so the step polls its socket). */
int sd_redis_busy(const sd_engine *e);
/* Put each Redis connection's socket after libcurl's in the poll array; how many. */
size_t sd_redis_arm(sd_engine *e);
/* After the poll: each polled connection's revents. */
void sd_redis_collect(sd_engine *e);
/* Do each connection's IO and what is due; the finished commands go to the result queue. */
void sd_redis_run(sd_engine *e);
/* Milliseconds until the nearest Redis deadline (rounded up), or -1. */
long long sd_redis_left_ms(const sd_engine *e);

/* ---- engine_watch.c: the watches' polls ---- */

/* The poll of a watch ended (t: its transfer, finished). */
void sd_watch_done(sd_engine *e, sd_transfer *t, long long now);
/* A watch's poll is due: its deadline, or a GET of the task. */
void sd_watch_fire(sd_engine *e, sd_watch *w, long long now);
/* Free a watch (out of every list already but the id table). */
void sd_watch_free(sd_engine *e, sd_watch *w);

/* ---- engine_loop.c ---- */

/* Append a transfer to a FIFO (the start queue, or a window's waiting calls). */
void sd_fifo_push(sd_transfer **head, sd_transfer **tail, sd_transfer *t);
/* Remove t from a FIFO wherever it stands; 1 when it was there. */
int sd_fifo_remove(sd_transfer **head, sd_transfer **tail, sd_transfer *t);
/* A transfer is finished (or failed before any IO; admitted: it held room in its window). */
void sd_finish(sd_engine *e, sd_transfer *t, int admitted, long long now);

/* ---- engine_window.c: a profile's queue of waiting calls ---- */

/* An API call enters its profile's window (or its queue of waiting calls). */
void sd_enter_window(sd_engine *e, sd_transfer *t, long long now);
/* Let a profile's waiting calls through while its window has room (refusing the expired). */
void sd_admit(sd_engine *e, sd_profile *p, long long now);
/* The earliest time a waiting call of any profile may change state (pause end, deadline), -1 none. */
long long sd_window_wake(sd_engine *e);

#endif
