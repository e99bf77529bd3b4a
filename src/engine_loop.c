/*
 * engine_loop.c: the engine's multi handle, the sockets and timer libcurl asks
 * it to watch (socket interface), adding and finishing transfers, the id
 * table, the result queue and the pool of easy handles. No Lua here: engine.c
 * is the only file that touches Lua. Calls engine_transfer.c, never the reverse.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "platform.h"

/* Idle easy handles kept for reuse. */
#define SD_POOL_MAX 64

/* Monotonic microseconds. The timer is kept in microseconds: libcurl rounds
 * its timeouts up to whole ms, so the deadline we derive is never before its
 * own, and a timeout action never runs early (an early one would leave
 * libcurl believing it had told us about a timer it still owes). */
static long long sd_now_us(void) {
    return sd_clock_us();
}

/* Whole milliseconds from now until the timer, rounded up; -1 without a timer. */
static long long sd_timer_left_ms(const sd_engine *e) {
    long long d;
    if (e->timer_at < 0) return -1;
    d = e->timer_at - sd_now_us();
    return d <= 0 ? 0 : (d + 999) / 1000;
}

/* poll() / WSAPoll() events for libcurl's CURL_POLL_* wish. */
static short sd_poll_events(int what) {
    short ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= POLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= POLLOUT;
    return ev;
}

/* Grow the socket arrays to hold at least n; -1 when memory ran out. */
static int sd_socks_reserve(sd_engine *e, size_t n) {
    size_t cap;
    sd_sock **socks;
    sd_pollfd *pfds, *ready;
    if (n <= e->capsocks) return 0;
    cap = e->capsocks ? e->capsocks * 2 : 16;
    while (cap < n) cap *= 2;
    socks = realloc(e->socks, cap * sizeof *socks);
    if (socks == NULL) return -1;
    e->socks = socks;
    pfds = realloc(e->pfds, cap * sizeof *pfds);
    if (pfds == NULL) return -1;
    e->pfds = pfds;
    ready = realloc(e->ready, cap * sizeof *ready);
    if (ready == NULL) return -1;
    e->ready = ready;
    e->capsocks = cap;
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
static int sd_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    sd_engine *e = userp;
    sd_sock *k = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (k != NULL) {
            size_t last = e->nsocks - 1;
            if (k->idx != last) { /* move the last socket into the freed slot */
                e->socks[k->idx] = e->socks[last];
                e->pfds[k->idx] = e->pfds[last];
                e->socks[k->idx]->idx = k->idx;
            }
            e->nsocks--;
            free(k);
        }
        return 0;
    }
    if (k == NULL) {
        if (sd_socks_reserve(e, e->nsocks + 1) != 0 || (k = malloc(sizeof *k)) == NULL) return -1;
        k->fd = s;
        k->idx = e->nsocks;
        e->socks[e->nsocks] = k;
        e->pfds[e->nsocks].fd = s;
        e->pfds[e->nsocks].revents = 0;
        e->nsocks++;
        curl_multi_assign(e->multi, s, k);
    }
    k->what = what;
    e->pfds[k->idx].events = sd_poll_events(what);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember when libcurl wants its timeout action. */
static int sd_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    sd_engine *e = userp;
    (void)multi;
    e->timer_at = timeout_ms < 0 ? -1 : sd_now_us() + (long long)timeout_ms * 1000;
    return 0;
}

static void sd_engine_release(sd_engine *e, CURL *easy);

/* Take a running transfer out of the multi handle, give its easy handle back
 * and release what only a running transfer needs. */
static void sd_engine_detach(sd_engine *e, sd_transfer *t) {
    curl_multi_remove_handle(e->multi, t->easy);
    sd_engine_release(e, t->easy); /* reset: no option points at our memory any more */
    t->easy = NULL;
    e->running--;
    sd_transfer_release_request(t);
}

sd_engine *sd_engine_new(const sd_engine_opts *o, char *err, size_t errlen) {
    sd_engine *e = calloc(1, sizeof *e);
    if (e == NULL) goto nomem;
    e->timer_at = -1;
    e->next_id = 1;
    e->file_budget = o->file_budget;
    e->nbuckets = 64;
    e->buckets = calloc(e->nbuckets, sizeof *e->buckets);
    if (e->buckets == NULL) goto nomem;
    if (o->user_agent != NULL && (e->user_agent = strdup(o->user_agent)) == NULL) goto nomem;
    e->multi = curl_multi_init();
    if (e->multi == NULL) {
        snprintf(err, errlen, "curl_multi_init failed");
        sd_engine_free(e);
        return NULL;
    }
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, sd_sock_cb);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, sd_timer_cb);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->max_host_connections);
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
    while (e->redis != NULL) sd_engine_redis_close(e, e->redis->id);
    sd_jobs_free(&e->jobs); /* the worker finishes what was queued (a journal record lands), then stops */
    /* running transfers first: out of the multi handle, files closed */
    for (i = 0; i < e->nbuckets && e->buckets != NULL; i++) {
        sd_transfer *t = e->buckets[i];
        while (t != NULL) {
            sd_transfer *next = t->hnext;
            if (t->easy != NULL) sd_engine_detach(e, t);
            sd_transfer_free(t);
            t = next;
        }
    }
    free(e->buckets);
    if (e->multi != NULL) curl_multi_cleanup(e->multi); /* may still report sockets gone */
    for (i = 0; i < e->npool; i++) curl_easy_cleanup(e->pool[i]);
    free(e->pool);
    for (i = 0; i < e->nsocks; i++) free(e->socks[i]);
    free(e->socks);
    free(e->pfds);
    free(e->ready);
    free(e->user_agent);
    free(e);
}

/* Bucket of an id. */
static size_t sd_bucket(const sd_engine *e, long long id) {
    return (size_t)((unsigned long long)id & (e->nbuckets - 1));
}

/* Double the id table when it gets crowded (silently stays as is without memory). */
static void sd_rehash(sd_engine *e) {
    size_t n = e->nbuckets * 2, i;
    sd_transfer **b = calloc(n, sizeof *b);
    if (b == NULL) return;
    for (i = 0; i < e->nbuckets; i++) {
        sd_transfer *t = e->buckets[i];
        while (t != NULL) {
            sd_transfer *next = t->hnext;
            size_t j = (size_t)((unsigned long long)t->id & (n - 1));
            t->hnext = b[j];
            b[j] = t;
            t = next;
        }
    }
    free(e->buckets);
    e->buckets = b;
    e->nbuckets = n;
}

/* Enter a new transfer into the id table. */
static void sd_engine_track(sd_engine *e, sd_transfer *t) {
    size_t j;
    if (e->count >= e->nbuckets * 2) sd_rehash(e);
    j = sd_bucket(e, t->id);
    t->hnext = e->buckets[j];
    e->buckets[j] = t;
    e->count++;
}

sd_transfer *sd_engine_find(sd_engine *e, long long id) {
    sd_transfer *t = e->buckets[sd_bucket(e, id)];
    while (t != NULL && t->id != id) t = t->hnext;
    return t;
}

/* Take a transfer out of the id table. */
static void sd_untrack(sd_engine *e, sd_transfer *t) {
    sd_transfer **p = &e->buckets[sd_bucket(e, t->id)];
    while (*p != NULL && *p != t) p = &(*p)->hnext;
    if (*p == t) {
        *p = t->hnext;
        e->count--;
    }
    t->hnext = NULL;
}

/* Append a finished transfer to the result queue. */
static void sd_engine_queue(sd_engine *e, sd_transfer *t) {
    t->done = 1;
    t->qnext = NULL;
    if (e->qtail != NULL) e->qtail->qnext = t;
    else e->qhead = t;
    e->qtail = t;
    e->nqueued++;
}

sd_transfer *sd_engine_pop(sd_engine *e) {
    sd_transfer *t = e->qhead;
    if (t == NULL) return NULL;
    e->qhead = t->qnext;
    if (e->qhead == NULL) e->qtail = NULL;
    e->nqueued--;
    t->qnext = NULL;
    sd_untrack(e, t);
    return t;
}

void sd_engine_cancel(sd_engine *e, sd_transfer *t) {
    if (t->done) { /* drop its waiting result */
        sd_transfer **p = &e->qhead, *prev = NULL;
        while (*p != NULL && *p != t) {
            prev = *p;
            p = &(*p)->qnext;
        }
        if (*p == t) {
            *p = t->qnext;
            if (e->qtail == t) e->qtail = prev;
            e->nqueued--;
        }
    } else if (t->easy != NULL) {
        sd_engine_detach(e, t);
    }
    sd_untrack(e, t);
    sd_transfer_free(t);
}

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

long long sd_engine_add(sd_engine *e, sd_request *rq) {
    sd_transfer *t = sd_transfer_new(rq); /* owns rq->headers from here */
    if (t == NULL) return -1;
    t->eng = e;
    t->id = e->next_id++;
    sd_engine_track(e, t);
    t->easy = sd_engine_easy(e);
    if (t->easy == NULL) {
        sd_transfer_fail(t, SD_FAIL_MEMORY, "cannot make an easy handle");
    } else if (sd_transfer_setup(t, rq) == 0 && curl_multi_add_handle(e->multi, t->easy) == CURLM_OK) {
        e->running++;
        return t->id;
    } else {
        sd_transfer_fail(t, SD_FAIL_MEMORY, "curl_multi_add_handle failed"); /* unless setup said why */
    }
    /* failed before any IO: a result right away */
    if (t->easy != NULL) {
        sd_engine_release(e, t->easy);
        t->easy = NULL;
    }
    sd_transfer_release_request(t);
    t->code = CURLE_OK;
    sd_engine_queue(e, t);
    return t->id;
}

/* Hand finished transfers from libcurl to the result queue. */
static void sd_collect(sd_engine *e) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        sd_transfer *t = NULL;
        if (m->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t != NULL) {
            sd_transfer_record_end(t, m->data.result);
            sd_engine_detach(e, t);
            sd_engine_queue(e, t);
        }
    }
}

/* Whether a Redis connection has results waiting. */
static int sd_redis_results(const sd_engine *e) {
    const sd_rlink *l;
    for (l = e->redis; l != NULL; l = l->next)
        if (sd_redis_has_results(l->conn)) return 1;
    return 0;
}

/* Whether a Redis connection waits for replies (so the engine polls its socket). */
static int sd_redis_busy(const sd_engine *e) {
    const sd_rlink *l;
    for (l = e->redis; l != NULL; l = l->next)
        if (sd_redis_pending(l->conn) > 0) return 1;
    return 0;
}

/* Results waiting: transfers queued, finished jobs and Redis replies. */
static size_t sd_engine_waiting(sd_engine *e) {
    return e->nqueued + (size_t)sd_jobs_finished(&e->jobs) + (size_t)sd_redis_results(e);
}

long long sd_engine_new_id(sd_engine *e) {
    return e->next_id++;
}

long long sd_engine_redis_open(sd_engine *e, const sd_redis_opts *o, char *err, size_t errlen) {
    sd_rlink *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "not enough memory");
        return -1;
    }
    l->conn = sd_redis_new(o, err, errlen);
    if (l->conn == NULL) {
        free(l);
        return -1;
    }
    l->id = e->next_id++;
    l->next = e->redis;
    e->redis = l;
    return l->id;
}

sd_redis *sd_engine_redis_find(sd_engine *e, long long id) {
    sd_rlink *l;
    for (l = e->redis; l != NULL; l = l->next)
        if (l->id == id) return l->conn;
    return NULL;
}

int sd_engine_redis_close(sd_engine *e, long long id) {
    sd_rlink **p = &e->redis;
    while (*p != NULL && (*p)->id != id) p = &(*p)->next;
    if (*p == NULL) return 0;
    {
        sd_rlink *l = *p;
        *p = l->next;
        sd_redis_free(l->conn);
        free(l);
    }
    return 1;
}

sd_redis_result *sd_engine_redis_take(sd_engine *e) {
    sd_rlink *l;
    for (l = e->redis; l != NULL; l = l->next) {
        sd_redis_result *r = sd_redis_take(l->conn);
        if (r != NULL) return r;
    }
    return NULL;
}

/* Put each Redis connection's socket after libcurl's in the poll array; how many. */
static size_t sd_redis_arm(sd_engine *e) {
    sd_rlink *l;
    size_t n = 0, count = 0;
    for (l = e->redis; l != NULL; l = l->next) count++;
    if (count == 0 || sd_socks_reserve(e, e->nsocks + count) != 0) return 0;
    for (l = e->redis; l != NULL; l = l->next) {
        sd_socket s;
        short ev;
        l->revents = 0;
        l->polled = sd_redis_want(l->conn, &s, &ev);
        if (!l->polled) continue;
        e->pfds[e->nsocks + n].fd = s;
        e->pfds[e->nsocks + n].events = ev;
        e->pfds[e->nsocks + n].revents = 0;
        n++;
    }
    return n;
}

/* After the poll: each polled connection's revents (read before libcurl may move the array). */
static void sd_redis_collect(sd_engine *e) {
    sd_rlink *l;
    size_t n = 0;
    for (l = e->redis; l != NULL; l = l->next) {
        if (!l->polled) continue;
        l->revents = e->pfds[e->nsocks + n].revents;
        n++;
    }
}

/* Do each connection's IO and what is due. */
static void sd_redis_run(sd_engine *e) {
    sd_rlink *l;
    long long now = sd_now_us();
    for (l = e->redis; l != NULL; l = l->next) {
        if (l->polled || sd_redis_deadline(l->conn) >= 0) sd_redis_io(l->conn, l->revents, now);
        l->revents = 0;
        l->polled = 0;
    }
}

/* Milliseconds until the nearest Redis deadline (rounded up), or -1. */
static long long sd_redis_left_ms(const sd_engine *e) {
    const sd_rlink *l;
    long long best = -1, now = sd_now_us();
    for (l = e->redis; l != NULL; l = l->next) {
        long long d = sd_redis_deadline(l->conn), ms;
        if (d < 0) continue;
        ms = d <= now ? 0 : (d - now + 999) / 1000;
        if (best < 0 || ms < best) best = ms;
    }
    return best;
}

long long sd_engine_add_job(sd_engine *e, sd_job *j) {
    j->id = e->next_id;
    if (sd_jobs_add(&e->jobs, j) != 0) {
        sd_job_free(j);
        return -1;
    }
    return e->next_id++;
}

/* Resume the downloads the file budget paused in the last step (their kept chunk is written now). */
static void sd_resume_paused(sd_engine *e) {
    size_t i;
    e->paused = 0;
    for (i = 0; i < e->nbuckets; i++) {
        sd_transfer *t;
        for (t = e->buckets[i]; t != NULL; t = t->hnext) {
            if (!t->paused) continue;
            t->paused = 0;
            if (t->easy != NULL) curl_easy_pause(t->easy, CURLPAUSE_CONT);
        }
    }
}

size_t sd_engine_step(sd_engine *e, int timeout_ms) {
    int running, n, wait = timeout_ms, redis = sd_redis_busy(e);
    size_t i, nready = 0, nredis;
    e->step_bytes = 0; /* this step's file budget */
    if (e->paused) {
        sd_resume_paused(e);
        wait = 0; /* they go on now */
    }
    if (sd_jobs_outstanding(&e->jobs) > 0) {
        /* the worker's results are looked for every millisecond */
        if (sd_jobs_finished(&e->jobs) || e->nqueued > 0) wait = 0;
        else if (wait > 1) wait = 1;
        if (e->running == 0 && !redis) {
            if (wait > 0) sd_sleep(wait / 1000.0, NULL);
            return sd_engine_waiting(e);
        }
    }
    if (e->running == 0 && !redis) return sd_engine_waiting(e);
    if (sd_engine_waiting(e) > 0) wait = 0; /* results are waiting: never block */
    if (e->timer_at >= 0) {
        long long d = sd_timer_left_ms(e);
        if (d < wait) wait = (int)d;
    }
    if (redis) {
        long long d = sd_redis_left_ms(e);
        if (d >= 0 && d < wait) wait = (int)d;
    }
    nredis = redis ? sd_redis_arm(e) : 0;
    n = sd_poll(e->pfds, e->nsocks + nredis, wait);
    if (nredis > 0) sd_redis_collect(e);
    if (n > 0) {
        /* copy first: socket_action may add and remove sockets under us */
        for (i = 0; i < e->nsocks; i++) {
            if (e->pfds[i].revents != 0) e->ready[nready++] = e->pfds[i];
        }
        for (i = 0; i < nready; i++) {
            short re = e->ready[i].revents;
            int ev = 0;
            if (re & (POLLIN | POLLHUP)) ev |= CURL_CSELECT_IN;
            if (re & POLLOUT) ev |= CURL_CSELECT_OUT;
            if (re & (POLLERR | POLLNVAL)) ev |= CURL_CSELECT_ERR;
            curl_multi_socket_action(e->multi, e->ready[i].fd, ev, &running);
        }
    }
    if (e->timer_at >= 0 && sd_now_us() >= e->timer_at) {
        long ms = -1;
        e->timer_at = -1; /* one shot: libcurl sets the next one */
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        /* and ask, in case it thinks it already told us */
        if (e->timer_at < 0 && curl_multi_timeout(e->multi, &ms) == CURLM_OK && ms >= 0)
            e->timer_at = sd_now_us() + (long long)ms * 1000;
    }
    sd_collect(e);
    if (redis) sd_redis_run(e);
    return sd_engine_waiting(e);
}

long sd_engine_timeout(sd_engine *e) {
    long long d, r;
    if (sd_engine_waiting(e) > 0 || e->paused) return 0;
    r = sd_redis_busy(e) ? sd_redis_left_ms(e) : -1;
    if (e->running == 0 && r < 0) return sd_jobs_outstanding(&e->jobs) > 0 ? 1 : -1;
    d = e->running == 0 ? -1 : sd_timer_left_ms(e);
    if (r >= 0 && (d < 0 || r < d)) d = r;
    if (sd_jobs_outstanding(&e->jobs) > 0 && (d < 0 || d > 1)) d = 1;
    return d > LONG_MAX ? LONG_MAX : (long)d;
}
