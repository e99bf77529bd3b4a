/*
 * bench/peer_c.c: the C anchor of B1, the same fan-out as bench/fanout.lua
 * written as a plain C program on libcurl's multi socket interface (epoll)
 * and cJSON: CONCURRENCY workers take tasks from a shared counter; each
 * submits (POST /v1/videos/generations, a cJSON-built body, an
 * Idempotency-Key), then polls GET /v1/tasks/{id} until the task is completed,
 * parsing every answer with cJSON, then takes the next task.
 *
 *   build/bench/peer_c URL TASKS CONCURRENCY [MAX_REQUESTS [HOST_CONNECTIONS]]
 *
 * The pool is seedance's engine default (src/engine.c, src/engine_loop.c):
 * CURLMOPT_MAX_HOST_CONNECTIONS 32, CURLMOPT_MAX_TOTAL_CONNECTIONS and
 * CURLMOPT_MAXCONNECTS 256. At most MAX_REQUESTS requests are handed to
 * libcurl at once, the others wait their turn in a FIFO; the default is the
 * pool's size, as a C program would do it: a transfer libcurl holds waiting
 * for a connection costs it a fresh connect attempt (URL parsing, the
 * connection cache) each time another transfer ends, so a window of 64 over
 * 32 connections (seedance's max_requests) costs this peer about 1.6x the
 * instructions per task. A not-yet-completed task is polled again at once
 * (the emulator of B1 completes tasks at once).
 *
 * Prints one JSON line: tasks, done, failed, requests, wall, cpu (user+sys of
 * this process over the loop, getrusage), cpu_user, cpu_sys, hwm_kib,
 * tasks_per_s. Exits 1 when a task failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *data;
    size_t len, cap;
} buffer;

typedef struct slot {
    CURL *easy;
    buffer body;             /* the answer */
    struct curl_slist *post; /* the submit's headers (its own Idempotency-Key) */
    char task_id[160];
    int polling;             /* 0: submitting, 1: polling */
    struct slot *next_wait;  /* FIFO of slots waiting for a request window */
} slot;

typedef struct {
    CURLM *multi;
    int epfd;
    long long timer_at_ms; /* -1: no timer */
    const char *url;
    long total, next, done, failed, requests;
    int in_multi, max_requests;
    slot *wait_head, *wait_tail;
    struct curl_slist *get_headers;
    unsigned long long key_state;
} peer;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t write_cb(char *p, size_t size, size_t n, void *userp) {
    buffer *b = userp;
    size_t len = size * n;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *d;
        while (cap < b->len + len + 1) cap *= 2;
        d = realloc(b->data, cap);
        if (d == NULL) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* CURLMOPT_SOCKETFUNCTION: keep epoll in step with what libcurl wants. */
static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    peer *p = userp;
    struct epoll_event ev;
    (void)easy;
    memset(&ev, 0, sizeof ev);
    ev.data.fd = s;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(p->multi, s, NULL);
        return 0;
    }
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev.events |= EPOLLOUT;
    if (socketp == NULL) {
        if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
            epoll_ctl(p->epfd, EPOLL_CTL_MOD, s, &ev);
        curl_multi_assign(p->multi, s, p); /* any non-NULL marks it as known */
    } else {
        epoll_ctl(p->epfd, EPOLL_CTL_MOD, s, &ev);
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    peer *p = userp;
    (void)multi;
    p->timer_at_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

/* Hand a prepared transfer to libcurl, or queue it for a request window. */
static void launch(peer *p, slot *s) {
    if (p->in_multi >= p->max_requests) {
        s->next_wait = NULL;
        if (p->wait_tail) p->wait_tail->next_wait = s; else p->wait_head = s;
        p->wait_tail = s;
        return;
    }
    p->in_multi++;
    p->requests++;
    s->body.len = 0;
    curl_multi_add_handle(p->multi, s->easy);
}

static void submit(peer *p, slot *s) {
    char url[512], key[64];
    cJSON *req = cJSON_CreateObject();
    char *json;
    cJSON_AddStringToObject(req, "model", "doubao-seedance-2.0");
    cJSON_AddStringToObject(req, "prompt", "bench fan-out");
    cJSON_AddNumberToObject(req, "duration", 5);
    json = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    /* a 128-bit key from a xorshift stream seeded once (the client's are random too) */
    p->key_state ^= p->key_state << 13;
    p->key_state ^= p->key_state >> 7;
    p->key_state ^= p->key_state << 17;
    snprintf(key, sizeof key, "Idempotency-Key: %016llx%016llx", p->key_state, p->key_state * 0x9E3779B97F4A7C15ULL);
    curl_slist_free_all(s->post);
    s->post = curl_slist_append(NULL, "Authorization: Bearer sk-bench");
    s->post = curl_slist_append(s->post, "Accept: application/json");
    s->post = curl_slist_append(s->post, "Content-Type: application/json");
    s->post = curl_slist_append(s->post, key);
    snprintf(url, sizeof url, "%s/v1/videos/generations", p->url);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->post);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(s->easy, CURLOPT_COPYPOSTFIELDS, json);
    cJSON_free(json);
    s->polling = 0;
    launch(p, s);
}

static void poll_task(peer *p, slot *s) {
    char url[512];
    snprintf(url, sizeof url, "%s/v1/tasks/%s", p->url, s->task_id);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, p->get_headers);
    s->polling = 1;
    launch(p, s);
}

/* The worker of this slot takes its next task, or stops. */
static void next_task(peer *p, slot *s) {
    if (p->next < p->total) {
        p->next++;
        submit(p, s);
    }
}

static void fail(peer *p, slot *s, const char *why) {
    p->failed++;
    if (p->failed < 5) fprintf(stderr, "peer_c: %s\n", why);
    next_task(p, s);
}

/* A transfer of slot s ended: parse the answer, then poll or move on. */
static void finished(peer *p, slot *s, CURLcode rc) {
    long status = 0;
    cJSON *root, *data;
    if (rc != CURLE_OK) { fail(p, s, curl_easy_strerror(rc)); return; }
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || s->body.len == 0) { fail(p, s, "answer not 200"); return; }
    root = cJSON_ParseWithLength(s->body.data, s->body.len);
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!s->polling) {
        cJSON *item = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, 0) : data;
        cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "task_id");
        if (!cJSON_IsString(id)) id = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof s->task_id) {
            cJSON_Delete(root);
            fail(p, s, "submit answer without a task id");
            return;
        }
        strcpy(s->task_id, id->valuestring);
        cJSON_Delete(root);
        poll_task(p, s);
        return;
    }
    {
        cJSON *st = cJSON_GetObjectItemCaseSensitive(data, "status");
        const char *v = cJSON_IsString(st) ? st->valuestring : "";
        if (strcmp(v, "completed") == 0) {
            cJSON_Delete(root);
            p->done++;
            next_task(p, s);
        } else if (strcmp(v, "failed") == 0 || strcmp(v, "cancelled") == 0 || v[0] == '\0') {
            cJSON_Delete(root);
            fail(p, s, "task failed, or an answer without a status");
        } else {
            cJSON_Delete(root);
            poll_task(p, s);
        }
    }
}

static void drain(peer *p) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
        slot *s;
        CURLcode rc;
        if (m->msg != CURLMSG_DONE) continue;
        rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(p->multi, s->easy);
        p->in_multi--;
        while (p->wait_head != NULL && p->in_multi < p->max_requests) {
            slot *w = p->wait_head;
            p->wait_head = w->next_wait;
            if (p->wait_head == NULL) p->wait_tail = NULL;
            launch(p, w);
        }
        finished(p, s, rc);
    }
}

static double cpu_of(const struct rusage *r, int sys) {
    const struct timeval *t = sys ? &r->ru_stime : &r->ru_utime;
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv) {
    peer p;
    slot *slots;
    long conc, i, host_conns;
    int running = 0;
    double t0, wall;
    struct rusage r0, r1;
    if (argc < 4) {
        fprintf(stderr, "usage: peer_c URL TASKS CONCURRENCY [MAX_REQUESTS [HOST_CONNECTIONS]]\n");
        return 2;
    }
    memset(&p, 0, sizeof p);
    p.url = argv[1];
    p.total = atol(argv[2]);
    conc = atol(argv[3]);
    host_conns = argc > 5 ? atol(argv[5]) : 32;
    p.max_requests = argc > 4 ? atoi(argv[4]) : (int)host_conns;
    if (p.total < 0 || conc < 1 || p.max_requests < 1 || host_conns < 1) {
        fprintf(stderr, "peer_c: TASKS >= 0, CONCURRENCY, MAX_REQUESTS and HOST_CONNECTIONS >= 1\n");
        return 2;
    }
    p.timer_at_ms = -1;
    p.key_state = (unsigned long long)time(NULL) * 2654435761ULL ^ (unsigned long long)getpid() ^ 0x9E3779B97F4A7C15ULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    p.epfd = epoll_create1(0);
    p.multi = curl_multi_init();
    curl_multi_setopt(p.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(p.multi, CURLMOPT_SOCKETDATA, &p);
    curl_multi_setopt(p.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(p.multi, CURLMOPT_TIMERDATA, &p);
    curl_multi_setopt(p.multi, CURLMOPT_MAX_HOST_CONNECTIONS, host_conns);
    curl_multi_setopt(p.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 256L);
    curl_multi_setopt(p.multi, CURLMOPT_MAXCONNECTS, 256L);
    p.get_headers = curl_slist_append(NULL, "Authorization: Bearer sk-bench");
    p.get_headers = curl_slist_append(p.get_headers, "Accept: application/json");
    slots = calloc((size_t)conc, sizeof *slots);
    if (p.epfd < 0 || p.multi == NULL || p.get_headers == NULL || slots == NULL) {
        fprintf(stderr, "peer_c: set-up failed\n");
        return 1;
    }
    for (i = 0; i < conc; i++) {
        slot *s = &slots[i];
        s->easy = curl_easy_init();
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->body);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "seedance-peer-c/1");
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 60000L);
    }

    t0 = now_s();
    getrusage(RUSAGE_SELF, &r0);
    for (i = 0; i < conc; i++) next_task(&p, &slots[i]);
    for (;;) {
        struct epoll_event evs[64];
        int n, k, timeout = -1;
        if (p.done + p.failed >= p.total && p.in_multi == 0) break;
        if (p.timer_at_ms >= 0) {
            long long d = p.timer_at_ms - now_ms();
            timeout = d < 0 ? 0 : (int)d;
        }
        if (timeout < 0 && p.in_multi == 0) break; /* nothing can happen any more */
        n = epoll_wait(p.epfd, evs, 64, timeout);
        if (n < 0 && errno != EINTR) { perror("epoll_wait"); break; }
        if (n <= 0) {
            p.timer_at_ms = -1;
            curl_multi_socket_action(p.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        for (k = 0; k < n; k++) {
            int mask = 0;
            if (evs[k].events & (EPOLLIN | EPOLLHUP)) mask |= CURL_CSELECT_IN;
            if (evs[k].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
            if (evs[k].events & EPOLLERR) mask |= CURL_CSELECT_ERR;
            curl_multi_socket_action(p.multi, evs[k].data.fd, mask, &running);
        }
        if (p.timer_at_ms >= 0 && p.timer_at_ms <= now_ms()) {
            p.timer_at_ms = -1;
            curl_multi_socket_action(p.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        drain(&p);
    }
    getrusage(RUSAGE_SELF, &r1);
    wall = now_s() - t0;

    printf("{\"tasks\":%ld,\"done\":%ld,\"failed\":%ld,\"requests\":%ld,\"wall\":%.6f,\"cpu\":%.6f,"
           "\"cpu_user\":%.6f,\"cpu_sys\":%.6f,\"hwm_kib\":%ld,\"tasks_per_s\":%.3f}\n",
           p.total, p.done, p.failed, p.requests, wall,
           cpu_of(&r1, 0) - cpu_of(&r0, 0) + cpu_of(&r1, 1) - cpu_of(&r0, 1),
           cpu_of(&r1, 0) - cpu_of(&r0, 0), cpu_of(&r1, 1) - cpu_of(&r0, 1), r1.ru_maxrss,
           wall > 0 ? (double)p.done / wall : 0.0);
    for (i = 0; i < conc; i++) {
        curl_easy_cleanup(slots[i].easy);
        curl_slist_free_all(slots[i].post);
        free(slots[i].body.data);
    }
    free(slots);
    curl_slist_free_all(p.get_headers);
    curl_multi_cleanup(p.multi);
    close(p.epfd);
    curl_global_cleanup();
    return p.failed == 0 && p.done == p.total ? 0 : 1;
}
