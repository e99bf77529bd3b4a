/*
 * engine_loop.c: the engine's multi handle, the pools of easy handles,
 * starting and finishing transfers (each API call through its client's
 * request window, whose queue is engine_window.c's), and the step with its
 * work budget. The id table and result
 * queue are in engine_ids.c, the sockets, timer and Redis connections the step
 * polls in engine_poll.c, the watches' polls in engine_watch.c (engine_loop.h).
 * No Lua here: engine.c and engine_api.c touch Lua. Calls engine_transfer.c
 * and engine_sched.c, never the reverse.
 *
 * A step does bounded work: it hands at most budget.starts transfers to
 * libcurl, at most budget.sockets ready sockets (taken in turn, so none
 * waits for ever), reads at most budget.answers finished transfers, and stops
 * early once budget.us has passed; what does not fit waits for the next step,
 * which is then due at once (timeout 0). New transfers wait in a start queue
 * until a step hands them over, so however many are added at once, libcurl's
 * own timer work in one step is bounded by the starts too.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine_loop.h"

/* Idle easy handles kept for reuse. */
#define SD_POOL_MAX 64

/* The default budget of one step: about a frame's share of engine work. */
#define SD_BUDGET_STARTS 16
#define SD_BUDGET_DOWNLOADS 2
#define SD_BUDGET_SOCKETS 24
#define SD_BUDGET_ANSWERS 48
#define SD_BUDGET_US 600

/* Whole milliseconds from now until t (monotonic us), rounded up; -1 for t < 0. */
static long long sd_ms_until(long long t, long long now) {
    long long d;
    if (t < 0) return -1;
    d = t - now;
    return d <= 0 ? 0 : (d + 999) / 1000;
}

/* ---- easy handles ---- */

/* An easy handle from the pool (reset) or a new one; NULL when memory ran out. */
static CURL *sd_engine_easy(sd_engine *e) {
    if (e->npool > 0) return e->pool[--e->npool];
    return curl_easy_init();
}

/* Give an easy handle (already out of the multi handle) back to the pool. */
static void sd_engine_release(sd_engine *e, CURL *easy) {
    curl_easy_reset(easy);
    if (e->npool < SD_POOL_MAX) {
        if (e->pool == NULL && (e->pool = malloc(SD_POOL_MAX * sizeof *e->pool)) == NULL) {
            curl_easy_cleanup(easy);
            return;
        }
        e->pool[e->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* Give a finished (or never started) transfer's easy handle back: to its
 * profile's pool as it is set up, when it may serve the profile's next call,
 * else reset to the engine's. */
static void sd_give_back(sd_engine *e, sd_transfer *t) {
    CURL *h = t->easy;
    sd_profile *p = t->prof;
    t->easy = NULL;
    if (h == NULL) return;
    if (p != NULL && p->eng == e && sd_api_reusable(t) && p->npool < SD_PROFILE_POOL) {
        /* no option may point at this transfer's memory once it is freed */
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
        p->pool[p->npool++] = h;
        return;
    }
    sd_engine_release(e, h);
}

/* Take a running transfer out of the multi handle and release what only a running transfer needs. */
static void sd_engine_detach(sd_engine *e, sd_transfer *t) {
    curl_multi_remove_handle(e->multi, t->easy);
    sd_give_back(e, t);
    e->running--;
    sd_transfer_release_request(t);
}

/* Move the jobs the worker finished into the result queue, each a node of its own; a download's
 * file opened goes to its transfer, which goes on. */
static void sd_collect_jobs(sd_engine *e) {
    sd_job *j;
    while (sd_jobs_finished(&e->jobs)) {
        sd_jobnode *n;
        if ((j = sd_jobs_take_owned(&e->jobs)) != NULL) {
            sd_transfer *t = j->owner;
            sd_output_opened(t, j); /* a failure is recorded: the write it was paused in fails it */
            sd_job_free(j);
            if (t->easy != NULL) curl_easy_pause(t->easy, CURLPAUSE_CONT);
            continue;
        }
        n = calloc(1, sizeof *n);
        if (n == NULL) return; /* no memory now: the job waits in the worker's list for the next step */
        j = sd_jobs_take(&e->jobs);
        if (j == NULL) {
            free(n);
            return;
        }
        n->job = j;
        sd_engine_track_as(e, &n->q, j->id, SD_NODE_JOB);
        sd_engine_queue(e, &n->q);
    }
}

/* ---- starting and finishing ---- */

/* Append a transfer to a FIFO (the start queue, or a window's waiting calls). */
void sd_fifo_push(sd_transfer **head, sd_transfer **tail, sd_transfer *t) {
    t->snext = NULL;
    if (*tail != NULL) (*tail)->snext = t;
    else *head = t;
    *tail = t;
}

/* Remove t from a FIFO wherever it stands; 1 when it was there. */
int sd_fifo_remove(sd_transfer **head, sd_transfer **tail, sd_transfer *t) {
    sd_transfer **p = head, *prev = NULL;
    while (*p != NULL && *p != t) {
        prev = *p;
        p = &(*p)->snext;
    }
    if (*p != t) return 0;
    *p = t->snext;
    if (*tail == t) *tail = prev;
    t->snext = NULL;
    return 1;
}

/* A transfer is finished (or failed before any IO): its window moves, and its
 * result goes to the queue, or to its watch. */
void sd_finish(sd_engine *e, sd_transfer *t, int admitted, long long now) {
    t->state = SD_T_DONE;
    if (t->prof != NULL && admitted) sd_window_done(t->prof, sd_transfer_ok(t) ? t->status : 0);
    if (t->watch != NULL) sd_watch_done(e, t, now);
    else sd_engine_queue(e, &t->q);
}

long long sd_engine_add(sd_engine *e, sd_request *rq) {
    sd_transfer *t = sd_transfer_new(rq); /* owns rq->headers from here */
    if (t == NULL) return -1;
    t->eng = e;
    sd_engine_track(e, &t->q, SD_NODE_TRANSFER);
    t->easy = sd_engine_easy(e);
    if (t->easy == NULL) {
        sd_transfer_fail(t, SD_FAIL_MEMORY, "cannot make an easy handle");
    } else if (sd_transfer_setup(t, rq) == 0) {
        t->state = SD_T_STARTING;
        sd_fifo_push(&e->shead, &e->stail, t);
        e->nstarting++;
        return t->q.id;
    }
    /* failed before any IO: a result right away */
    if (t->easy != NULL) sd_engine_release(e, t->easy);
    t->easy = NULL;
    sd_transfer_release_request(t);
    t->code = CURLE_OK;
    sd_finish(e, t, 0, sd_now_us());
    return t->q.id;
}

/* Hand one transfer of the start queue to libcurl. */
static void sd_start(sd_engine *e, sd_transfer *t, long long now) {
    int api = t->prof != NULL;
    if (api) {
        sd_profile *p = t->prof;
        int fresh = 1;
        if (t->form == NULL && p->npool > 0) {
            t->easy = p->pool[--p->npool];
            fresh = 0;
        } else {
            t->easy = sd_engine_easy(e);
        }
        if (t->easy == NULL) {
            sd_transfer_fail(t, SD_FAIL_MEMORY, "cannot make an easy handle");
        } else if (t->deadline_us >= 0 && now >= t->deadline_us) {
            sd_transfer_fail(t, SD_FAIL_DEADLINE, "the deadline passed before the request could be sent");
        } else {
            /* a call with a deadline never runs past it */
            if (t->deadline_us >= 0) {
                long left = (long)((t->deadline_us - now + 999) / 1000);
                if (t->timeout_ms == 0 || t->timeout_ms > left) t->timeout_ms = left;
            }
            if (sd_api_setup(t, fresh) != 0) t->fail = t->fail ? t->fail : SD_FAIL_MEMORY;
        }
    }
    if (t->fail == SD_FAIL_NONE && curl_multi_add_handle(e->multi, t->easy) == CURLM_OK) {
        t->state = SD_T_RUNNING;
        e->running++;
        return;
    }
    sd_transfer_fail(t, SD_FAIL_MEMORY, "curl_multi_add_handle failed"); /* unless it said why */
    if (t->easy != NULL) {
        curl_easy_reset(t->easy); /* never back to the profile's pool half set up */
        sd_engine_release(e, t->easy);
        t->easy = NULL;
    }
    sd_transfer_release_request(t);
    t->code = CURLE_OK;
    sd_finish(e, t, api, now);
}

/* ---- the engine ---- */

sd_engine *sd_engine_new(const sd_engine_opts *o, char *err, size_t errlen) {
    sd_engine *e = calloc(1, sizeof *e);
    if (e == NULL) goto nomem;
    e->timer_at = -1;
    e->next_id = 1;
    e->file_budget = o->file_budget;
    e->nbuckets = 64;
    e->budget.starts = SD_BUDGET_STARTS;
    e->budget.downloads = SD_BUDGET_DOWNLOADS;
    e->budget.sockets = SD_BUDGET_SOCKETS;
    e->budget.answers = SD_BUDGET_ANSWERS;
    e->budget.us = SD_BUDGET_US;
    e->buckets = calloc(e->nbuckets, sizeof *e->buckets);
    if (e->buckets == NULL) goto nomem;
    if (o->user_agent != NULL && (e->user_agent = strdup(o->user_agent)) == NULL) goto nomem;
    e->multi = curl_multi_init();
    if (e->multi == NULL) {
        snprintf(err, errlen, "curl_multi_init failed");
        sd_engine_free(e);
        return NULL;
    }
    e->poller = getenv("SD_NO_EPOLL") ? NULL : sd_poller_new(); /* NULL: the array is polled */
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, sd_sock_cb);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, sd_timer_cb);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->max_host_connections);
    /* no more transfers in libcurl than it has connections for: one waiting for a connection costs
     * a connect attempt (URL parsing, the connection cache) each time another one ends */
    e->max_running = o->max_host_connections > 0 ? (size_t)o->max_host_connections : 0;
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o->max_total_connections);
    /* keep as many idle connections as may be open, so they are reused */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS,
                      o->max_total_connections > 0 ? o->max_total_connections : 256L);
    return e;
nomem:
    snprintf(err, errlen, "not enough memory");
    if (e != NULL) sd_engine_free(e);
    return NULL;
}

void sd_engine_free(sd_engine *e) {
    size_t i;
    sd_profile *p;
    while (e->redis != NULL) sd_engine_redis_close(e, e->redis->id);
    sd_jobs_free(&e->jobs); /* the worker finishes what was queued (a journal record lands), then stops */
    /* watches first (they cancel their polls), then the transfers left */
    for (i = 0; i < e->nbuckets && e->buckets != NULL; i++) {
        sd_qnode *n = e->buckets[i];
        while (n != NULL) {
            sd_qnode *next = n->hnext;
            if (n->kind == SD_NODE_WATCH) {
                sd_untrack(e, n);
                sd_unqueue(e, n);
                sd_watch_free(e, (sd_watch *)n);
            }
            n = next;
        }
    }
    for (i = 0; i < e->nbuckets && e->buckets != NULL; i++) {
        while (e->buckets[i] != NULL) sd_engine_cancel(e, e->buckets[i]);
    }
    /* calls left untracked: none but watches' polls, cancelled with their watches */
    free(e->buckets);
    if (e->multi != NULL) curl_multi_cleanup(e->multi); /* may still report sockets gone */
    for (i = 0; i < e->npool; i++) curl_easy_cleanup(e->pool[i]);
    free(e->pool);
    /* profiles outlive their engine (their Lua boxes hold them): they let go of it */
    for (p = e->profiles; p != NULL; p = p->next) {
        for (i = 0; i < p->npool; i++) curl_easy_cleanup(p->pool[i]);
        p->npool = 0;
        p->eng = NULL;
    }
    for (i = 0; i < e->nsocks; i++) free(e->socks[i]);
    free(e->socks);
    free(e->pfds);
    free(e->ready);
    sd_poller_free(e->poller);
    free(e->heap);
    free(e->user_agent);
    free(e);
}

void sd_engine_cancel(sd_engine *e, sd_qnode *n) {
    sd_transfer *t;
    if (n->kind == SD_NODE_JOB) {
        sd_unqueue(e, n);
        sd_untrack(e, n);
        sd_job_free(((sd_jobnode *)n)->job);
        free(n);
        return;
    }
    if (n->kind == SD_NODE_REDIS) {
        sd_unqueue(e, n);
        sd_untrack(e, n);
        sd_redis_result_free(((sd_rnode *)n)->r);
        free(n);
        return;
    }
    if (n->kind == SD_NODE_WATCH) {
        sd_unqueue(e, n);
        sd_untrack(e, n);
        sd_watch_free(e, (sd_watch *)n);
        return;
    }
    t = (sd_transfer *)n;
    switch (t->state) {
    case SD_T_STARTING:
        if (sd_fifo_remove(&e->shead, &e->stail, t)) e->nstarting--;
        if (t->prof != NULL) sd_window_done(t->prof, 0); /* it held a place in its window */
        if (t->easy != NULL) sd_engine_release(e, t->easy);
        t->easy = NULL;
        break;
    case SD_T_WAITING:
        if (sd_fifo_remove(&t->prof->wait_head, &t->prof->wait_tail, t)) t->prof->nwaiting--;
        break;
    case SD_T_RUNNING:
        if (t->easy != NULL) {
            curl_multi_remove_handle(e->multi, t->easy);
            curl_easy_reset(t->easy); /* cut off mid-transfer: never reused as it is */
            sd_engine_release(e, t->easy);
            t->easy = NULL;
            e->running--;
        }
        if (t->prof != NULL) sd_window_done(t->prof, 0);
        break;
    default: /* done: drop its result */
        sd_unqueue(e, n);
        break;
    }
    if (t->watch != NULL) {
        t->watch->poll = NULL;
        t->watch = NULL;
    }
    sd_untrack(e, n);
    if (t->prof != NULL && t->prof->eng == e && t->state != SD_T_DONE) sd_admit(e, t->prof, sd_now_us());
    sd_transfer_free(t);
}

/* Hand finished transfers from libcurl over, at most `max` (0: all); how many. */
static int sd_collect(sd_engine *e, int max, long long t0) {
    CURLMsg *m;
    int left = 0, n = 0;
    while ((max == 0 || n < max) && (m = curl_multi_info_read(e->multi, &left)) != NULL) {
        sd_transfer *t = NULL;
        sd_profile *p;
        long long now;
        if (m->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t == NULL) continue;
        now = sd_now_us();
        sd_transfer_record_end(t, m->data.result);
        sd_engine_detach(e, t);
        p = t->prof; /* (finishing may free t: a watch's poll that changed nothing) */
        if (p != NULL) p->refs++;
        sd_finish(e, t, 1, now);
        if (p != NULL) {
            if (p->eng == e) sd_admit(e, p, now);
            sd_profile_release(p);
        }
        n++;
        if (e->budget.us > 0 && sd_now_us() - t0 > e->budget.us) break;
    }
    e->pending_msgs = (size_t)left;
    return n;
}

/* Whether libcurl may take one more transfer. */
static int sd_room(const sd_engine *e) {
    return e->max_running == 0 || e->running < e->max_running;
}

/* Whether due watches may fire: not while a step's worth of calls waits to start and libcurl has no
 * room for them (a poll fired then only lengthens the queue; a transfer that ends makes room, and
 * its socket wakes the step). */
static int sd_may_fire(const sd_engine *e) {
    return e->budget.starts <= 0 || (int)e->nstarting < e->budget.starts || sd_room(e);
}

/* The watch due first, when it may fire (NULL: none, or not now). */
static sd_watch *sd_next_watch(sd_engine *e) {
    sd_watch *w = sd_heap_top(e);
    return w != NULL && sd_may_fire(e) ? w : NULL;
}

/* Whether work is ready for a step now (it must not block). */
static int sd_ready_now(sd_engine *e, long long now) {
    sd_watch *w = sd_next_watch(e);
    return e->nqueued > 0 || (e->nstarting > 0 && sd_room(e)) || e->pending_msgs > 0 || e->more || e->paused ||
           sd_jobs_finished(&e->jobs) || (w != NULL && w->next_us <= now);
}

/* Resume the downloads the file budget paused in the last step (their kept chunk is written now). */
static void sd_resume_paused(sd_engine *e) {
    size_t i;
    e->paused = 0;
    for (i = 0; i < e->nbuckets; i++) {
        sd_qnode *n;
        for (n = e->buckets[i]; n != NULL; n = n->hnext) {
            sd_transfer *t = (sd_transfer *)n;
            if (n->kind != SD_NODE_TRANSFER || !t->paused) continue;
            t->paused = 0;
            if (t->easy != NULL) curl_easy_pause(t->easy, CURLPAUSE_CONT);
        }
    }
}

size_t sd_engine_step(sd_engine *e, int timeout_ms) {
    int running, n, wait = timeout_ms, starts = 0, downloads = 0, socks = 0, fired = 0, redis = sd_redis_busy(e);
    size_t i, nready = 0, nredis = 0;
    long long now = sd_now_us(), t0, at;
    sd_budget *b = &e->budget;
    sd_watch *w;
    sd_profile *p;
    e->last.starts = e->last.downloads = e->last.sockets = e->last.answers = 0;
    if (sd_ready_now(e, now)) wait = 0; /* results or work are waiting: never block */
    e->step_bytes = 0; /* this step's file budget */
    if (e->paused) sd_resume_paused(e); /* they go on now (wait is 0: e->paused made it so) */
    if (wait > 0 && e->timer_at >= 0) {
        long long d = sd_ms_until(e->timer_at, now);
        if (d < wait) wait = (int)d;
    }
    if (wait > 0 && (at = sd_window_wake(e)) >= 0) {
        long long d = sd_ms_until(at, now);
        if (d < wait) wait = (int)d;
    }
    if (wait > 0 && (w = sd_next_watch(e)) != NULL) {
        long long d = sd_ms_until(w->next_us, now);
        if (d < wait) wait = (int)d;
    }
    if (wait > 1 && sd_jobs_outstanding(&e->jobs) > 0) wait = 1; /* the worker's results are looked for every ms */
    if (redis) {
        long long d = sd_redis_left_ms(e);
        if (d >= 0 && d < wait) wait = (int)d;
        nredis = sd_redis_arm(e); /* (a step with Redis replies awaited polls the array: they are in it) */
    }
    if (e->poller != NULL && e->nsocks > 0 && nredis == 0) {
        /* the kernel's set: only the ready sockets come back */
        n = sd_poller_wait(e->poller, e->ready, e->nsocks, wait);
        if (n > 0) nready = (size_t)n;
    } else {
        n = e->nsocks + nredis > 0 || wait > 0 ? sd_poll(e->pfds, e->nsocks + nredis, wait) : 0;
        if (nredis > 0) sd_redis_collect(e);
        if (n > 0) {
            /* copy first: socket_action may add and remove sockets under us */
            for (i = 0; i < e->nsocks; i++) {
                if (e->pfds[i].revents != 0) e->ready[nready++] = e->pfds[i];
            }
        }
    }
    sd_collect_jobs(e);
    t0 = now = sd_now_us();
    e->more = 0;
    /* calls waiting for a window that opened (a pause ended), or that can wait no more */
    for (p = e->profiles; p != NULL; p = p->next)
        if (p->nwaiting > 0) sd_admit(e, p, now);
    /* watches whose poll is due: each a call into its window, started below within the budget */
    while ((w = sd_heap_top(e)) != NULL && w->next_us <= now) {
        if (b->starts > 0 && (fired >= b->starts || (int)e->nstarting >= b->starts)) {
            /* the rest at the next step; at once when it was this step's budget, else once there is room */
            if (fired >= b->starts || sd_room(e)) e->more = 1;
            break;
        }
        sd_watch_fire(e, w, now);
        fired++;
    }
    /* new transfers to libcurl (its timer action below sends them), as many as it has connections for;
     * at most budget.downloads of them not API calls (a download makes its files as its answer comes) */
    {
        sd_transfer **pp = &e->shead, *prev = NULL;
        while (*pp != NULL && sd_room(e)) {
            sd_transfer *t = *pp;
            int generic = t->prof == NULL;
            if ((b->starts > 0 && starts >= b->starts) || (b->us > 0 && starts > 0 && sd_now_us() - t0 > b->us)) {
                e->more = 1;
                break;
            }
            if (generic && b->downloads > 0 && downloads >= b->downloads) {
                /* it keeps its place: the API calls behind it go on */
                e->more = 1;
                prev = t;
                pp = &t->snext;
                continue;
            }
            *pp = t->snext;
            if (e->stail == t) e->stail = prev;
            e->nstarting--;
            t->snext = NULL;
            sd_start(e, t, now);
            starts++;
            downloads += generic;
        }
    }
    if (nready > 0) {
        for (i = 0; i < nready; i++) {
            /* in turn from where the last step stopped, so no socket waits for ever */
            sd_pollfd *r = &e->ready[(i + e->rotor) % nready];
            short re = r->revents;
            int ev = 0;
            if ((b->sockets > 0 && socks >= b->sockets) || (b->us > 0 && socks > 0 && sd_now_us() - t0 > b->us)) {
                e->more = 1;
                break;
            }
            if (re & (POLLIN | POLLHUP)) ev |= CURL_CSELECT_IN;
            if (re & POLLOUT) ev |= CURL_CSELECT_OUT;
            if (re & (POLLERR | POLLNVAL)) ev |= CURL_CSELECT_ERR;
            curl_multi_socket_action(e->multi, r->fd, ev, &running);
            socks++;
        }
        e->rotor += (size_t)socks;
    }
    if (e->timer_at >= 0 && sd_now_us() >= e->timer_at) {
        long ms = -1;
        e->timer_at = -1; /* one shot: libcurl sets the next one */
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        /* and ask, in case it thinks it already told us */
        if (e->timer_at < 0 && curl_multi_timeout(e->multi, &ms) == CURLM_OK && ms >= 0)
            e->timer_at = sd_now_us() + (long long)ms * 1000;
    }
    e->last.answers = sd_collect(e, b->answers, t0);
    if (redis) sd_redis_run(e);
    if (e->pending_msgs > 0) e->more = 1;
    e->last.starts = starts;
    e->last.downloads = downloads;
    e->last.sockets = socks;
    return e->nqueued;
}

long sd_engine_timeout(sd_engine *e) {
    long long now = sd_now_us(), at = -1, d;
    sd_watch *w = sd_next_watch(e);
    if (sd_ready_now(e, now)) return 0;
    if (sd_jobs_outstanding(&e->jobs) > 0) at = now + 1000; /* the worker's results: looked for every ms */
    if (e->running > 0 && e->timer_at >= 0 && (at < 0 || e->timer_at < at)) at = e->timer_at;
    if (w != NULL && (at < 0 || w->next_us < at)) at = w->next_us;
    d = sd_window_wake(e);
    if (d >= 0 && (at < 0 || d < at)) at = d;
    if (sd_redis_busy(e)) {
        long long r = sd_redis_left_ms(e);
        if (r >= 0 && (at < 0 || now + r * 1000 < at)) at = now + r * 1000;
        else if (r < 0 && at < 0) return 1000; /* replies awaited, no deadline: looked for at least every second */
    }
    if (at < 0) return (e->running > 0 || sd_engine_pending(e) > 0) ? 1000 : -1;
    d = sd_ms_until(at, now);
    return d > LONG_MAX ? LONG_MAX : (long)d;
}

size_t sd_engine_pending(sd_engine *e) {
    size_t n = e->running + e->nstarting;
    sd_profile *p;
    for (p = e->profiles; p != NULL; p = p->next) n += p->nwaiting;
    return n;
}
