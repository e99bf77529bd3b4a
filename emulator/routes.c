/*
 * routes.c: the libmicrohttpd access handler: body collection, latency,
 * injected faults, authentication, rate limits, then the endpoint.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "emu.h"
#include "respond.h"
#include "routes.h"

#define API_BODY_MAX (1024 * 1024)                    /* JSON bodies */
#define UPLOAD_BODY_MAX (EMU_UPLOAD_MAX + 64 * 1024)  /* a 20 MB image plus the multipart framing */

/* Per-request state, freed by emu_request_done. */
typedef struct {
    char *body;   /* collected request body */
    size_t len, cap;
    int too_big;  /* the body passed its cap (the rest was discarded) */
} emu_req;

void emu_request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c; (void)toe;
    emu_req *r = *con_cls;
    if (r) {
        free(r->body);
        free(r);
        *con_cls = NULL;
    }
}

static int append(emu_req *r, const char *data, size_t n, size_t max) {
    if (r->too_big || r->len + n > max) { r->too_big = 1; return 0; }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1) cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) { r->too_big = 1; return 0; }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

/* The bearer token of the request, or "" (copied into key). */
static void bearer(struct MHD_Connection *c, char *key, size_t cap) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    key[0] = '\0';
    if (h && strncmp(h, "Bearer ", 7) == 0) snprintf(key, cap, "%s", h + 7);
}

/* Faults decided for one API request, from the seeded PRNG. */
typedef struct { int drop, error, garbage, after; unsigned status; } emu_fault;

/* Count the request and, when its endpoint is subject to faults, draw them. */
static emu_fault pick_fault(int route) {
    emu_fault f = {0, 0, 0, 0, 0};
    static const unsigned codes[3] = {500, 502, 503};
    pthread_mutex_lock(&E.lock);
    E.stats.requests++;
    E.stats.by_route[route]++;
    if (!(E.opt.fault_routes & (1u << route))) {
        /* no faults here */
    } else if (E.opt.drop_rate > 0 && emu_rand() < E.opt.drop_rate) {
        f.drop = 1;
        /* on a submit, half the drops happen after the task was made (only the answer is lost) */
        f.after = route == EMU_ROUTE_SUBMIT && emu_rand() < 0.5;
        E.stats.drops++;
    } else if (E.opt.error_rate > 0 && emu_rand() < E.opt.error_rate) {
        f.error = 1;
        f.status = codes[(int)(emu_rand() * 3) % 3];
        E.stats.errors_injected++;
    } else if (E.opt.garbage_rate > 0 && emu_rand() < E.opt.garbage_rate) {
        f.garbage = 1 + (emu_rand() < 0.5);
        E.stats.garbage++;
    }
    pthread_mutex_unlock(&E.lock);
    return f;
}

static enum MHD_Result injected_error(struct MHD_Connection *c, unsigned status) {
    if (status == 500)
        return emu_send_error(c, 500, "server_error", "internal error, please retry later", NULL, NULL);
    if (status == 502)
        return emu_send_error(c, 502, "bad_gateway", "upstream error, please retry later", NULL, NULL);
    return emu_send_error(c, 503, "service_unavailable", "service busy, please retry later", "Retry-After", "1");
}

/* Which API endpoint a method and path name (EMU_ROUTE_OTHER if none). */
static int route_of(const char *url, const char *method) {
    int post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (post && strcmp(url, "/v1/videos/generations") == 0) return EMU_ROUTE_SUBMIT;
    if (get && strncmp(url, "/v1/tasks/", 10) == 0 && url[10]) return EMU_ROUTE_POLL;
    if (post && strcmp(url, "/v1/uploads/images") == 0) return EMU_ROUTE_UPLOAD;
    if (get && strcmp(url, "/v1/balance") == 0) return EMU_ROUTE_BALANCE;
    return EMU_ROUTE_OTHER;
}

static enum MHD_Result api(struct MHD_Connection *c, const char *url, const char *method, emu_req *r) {
    char key[128];
    int route = route_of(url, method);
    if (E.opt.latency_ms > 0) { /* this mode runs a thread per connection: sleeping holds up no one else */
        struct timespec ts = {E.opt.latency_ms / 1000, (long)(E.opt.latency_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    emu_fault f = pick_fault(route);
    if (f.drop && !f.after) return MHD_NO;
    if (f.error) return injected_error(c, f.status);
    if (f.garbage) return emu_send_garbage(c, f.garbage == 2);

    bearer(c, key, sizeof key);
    if (!emu_key_allowed(key)) {
        pthread_mutex_lock(&E.lock);
        E.stats.auth_errors++;
        pthread_mutex_unlock(&E.lock);
        return emu_send_error(c, 401, "authentication_error",
                              key[0] ? "authentication failed: invalid API key" : "authentication failed: missing API key",
                              NULL, NULL);
    }
    if (E.opt.rpm > 0) {
        double retry = 0;
        pthread_mutex_lock(&E.lock);
        int allowed = emu_rate_check(key, emu_now(), &retry);
        if (!allowed) E.stats.rate_limited++;
        pthread_mutex_unlock(&E.lock);
        if (!allowed) {
            char ra[32];
            snprintf(ra, sizeof ra, "%.0f", retry);
            return emu_send_error(c, 429, "rate_limit_error", "too many requests, please slow down", "Retry-After", ra);
        }
    }

    switch (route) {
    case EMU_ROUTE_SUBMIT:
        if (r->too_big) return emu_send_error(c, 413, "invalid_request_error", "request body too large", NULL, NULL);
        return emu_submit(c, key, r->body, r->len, &f.after);
    case EMU_ROUTE_POLL:
        return emu_poll(c, url + 10, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "language"));
    case EMU_ROUTE_UPLOAD:
        return emu_upload(c, r->body, r->len, r->too_big);
    case EMU_ROUTE_BALANCE:
        return emu_balance(c, key);
    default:
        return emu_send_error(c, 404, "invalid_request_error", "unknown endpoint", NULL, NULL);
    }
}

enum MHD_Result emu_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload_data, size_t *upload_data_size,
                            void **con_cls) {
    (void)cls; (void)version;
    emu_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t max = strcmp(url, "/v1/uploads/images") == 0 ? UPLOAD_BODY_MAX : API_BODY_MAX;
        append(r, upload_data, *upload_data_size, max);
        *upload_data_size = 0;
        return MHD_YES;
    }
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (get && strncmp(url, "/media/", 7) == 0) return emu_media(c, url + 7);
    if (get && strncmp(url, "/uploads/", 9) == 0) return emu_upload_get(c, url + 9);
    if (get && strcmp(url, "/_emulator/stats") == 0) return emu_stats_page(c);
    return api(c, url, method, r);
}
