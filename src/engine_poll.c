/*
 * engine_poll.c: what the step polls. The sockets libcurl asks the engine to
 * watch (CURLMOPT_SOCKETFUNCTION: kept in an array for poll() and, where the
 * platform has one, in the kernel's set) and the time of its next timeout
 * action (CURLMOPT_TIMERFUNCTION); and the engine's Redis connections
 * (redis.c), whose sockets are polled after libcurl's in the same array and
 * whose finished commands go to the result queue. No Lua here.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include "engine_loop.h"

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
int sd_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    sd_engine *e = userp;
    sd_sock *k = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (k != NULL) {
            size_t last = e->nsocks - 1;
            if (e->poller != NULL) sd_poller_del(e->poller, k->fd);
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
        k->what = 0; /* not watched yet */
        k->idx = e->nsocks;
        e->socks[e->nsocks] = k;
        e->pfds[e->nsocks].fd = s;
        e->pfds[e->nsocks].revents = 0;
        e->nsocks++;
        curl_multi_assign(e->multi, s, k);
    }
    if (e->poller != NULL && (k->what == 0 || k->what != what) &&
        sd_poller_set(e->poller, s, sd_poll_events(what), k->what != 0) != 0) {
        /* the kernel's set refused it: poll the array from now on (it holds every socket) */
        sd_poller_free(e->poller);
        e->poller = NULL;
    }
    k->what = what;
    e->pfds[k->idx].events = sd_poll_events(what);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember when libcurl wants its timeout action. */
int sd_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    sd_engine *e = userp;
    (void)multi;
    e->timer_at = timeout_ms < 0 ? -1 : sd_now_us() + (long long)timeout_ms * 1000;
    return 0;
}

/* Whether a Redis connection has results waiting. */
static int sd_redis_results(const sd_engine *e) {
    const sd_rlink *l;
    for (l = e->redis; l != NULL; l = l->next)
        if (sd_redis_has_results(l->conn)) return 1;
    return 0;
}

/* Whether a Redis connection waits for replies (so the engine polls its socket). */
int sd_redis_busy(const sd_engine *e) {
    const sd_rlink *l;
    for (l = e->redis; l != NULL; l = l->next)
        if (sd_redis_pending(l->conn) > 0) return 1;
    return 0;
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
size_t sd_redis_arm(sd_engine *e) {
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
void sd_redis_collect(sd_engine *e) {
    sd_rlink *l;
    size_t n = 0;
    for (l = e->redis; l != NULL; l = l->next) {
        if (!l->polled) continue;
        l->revents = e->pfds[e->nsocks + n].revents;
        n++;
    }
}

/* Do each connection's IO and what is due; the finished commands go to the result queue. */
void sd_redis_run(sd_engine *e) {
    sd_rlink *l;
    sd_redis_result *r;
    long long now = sd_now_us();
    for (l = e->redis; l != NULL; l = l->next) {
        if (l->polled || sd_redis_deadline(l->conn) >= 0) sd_redis_io(l->conn, l->revents, now);
        l->revents = 0;
        l->polled = 0;
    }
    while (sd_redis_results(e)) {
        sd_rnode *n = calloc(1, sizeof *n);
        if (n == NULL) return; /* no memory now: the result waits in its connection for the next step */
        r = sd_engine_redis_take(e);
        if (r == NULL) {
            free(n);
            return;
        }
        n->r = r;
        sd_engine_track_as(e, &n->q, r->id, SD_NODE_REDIS);
        sd_engine_queue(e, &n->q);
    }
}

/* Milliseconds until the nearest Redis deadline (rounded up), or -1. */
long long sd_redis_left_ms(const sd_engine *e) {
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
