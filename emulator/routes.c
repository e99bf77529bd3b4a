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
#include "buf.h"
#include "emu.h"
#include "parse.h"
#include "respond.h"
#include "routes.h"

#define API_BODY_MAX (1024 * 1024)                    /* JSON bodies */
#define UPLOAD_BODY_MAX (EMU_UPLOAD_MAX + 64 * 1024)  /* a 20 MB image plus the multipart framing */

/* Per-request state, freed by emu_request_done. */
typedef struct {
    sd_buf body;  /* collected request body (capped) */
    int too_big;  /* the body passed its cap (the rest was discarded) */
} emu_req;

void emu_request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c; (void)toe;
    emu_req *r = *con_cls;
    if (r) {
        sd_buf_free(&r->body);
        free(r);
        *con_cls = NULL;
    }
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

static enum MHD_Result api(struct MHD_Connection *c, const char *url, const char *method, emu_req *r) {
    char key[EMU_KEY_MAX + 1];
    const char *id;
    int route = emu_route(method, url, &id), klen;
    if (E.opt.latency_ms > 0) { /* this mode runs a thread per connection: sleeping holds up no one else */
        struct timespec ts = {E.opt.latency_ms / 1000, (long)(E.opt.latency_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    emu_fault f = pick_fault(route);
    if (f.drop && !f.after) return MHD_NO;
    if (f.error) return injected_error(c, f.status);
    if (f.garbage) return emu_send_garbage(c, f.garbage == 2);

    klen = emu_bearer_parse(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), key, sizeof key);
    if (klen <= 0 || !emu_key_allowed(key)) {
        pthread_mutex_lock(&E.lock);
        E.stats.auth_errors++;
        pthread_mutex_unlock(&E.lock);
        return emu_send_error(c, 401, "authentication_error",
                              klen ? "authentication failed: invalid API key" : "authentication failed: missing API key",
                              NULL, NULL);
    }
    if (E.opt.rpm > 0) {
        double retry = 0;
        pthread_mutex_lock(&E.lock);
        int allowed = emu_rate_check(key, emu_mono(), &retry);
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
        return emu_submit(c, key, r->body.data, r->body.len, &f.after);
    case EMU_ROUTE_POLL:
        return emu_poll(c, id, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "language"));
    case EMU_ROUTE_UPLOAD:
        return emu_upload(c, r->body.data, r->body.len, r->too_big);
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
        sd_buf_init(&r->body, strcmp(url, "/v1/uploads/images") == 0 ? UPLOAD_BODY_MAX : API_BODY_MAX);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) { /* past the cap (or out of memory) the rest is discarded: 413 */
        if (!r->too_big && sd_buf_add(&r->body, upload_data, *upload_data_size) != 0) r->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (get && strncmp(url, "/media/", 7) == 0) return emu_media(c, url + 7);
    if (get && strncmp(url, "/uploads/", 9) == 0) return emu_upload_get(c, url + 9);
    if (get && strcmp(url, "/_emulator/stats") == 0) return emu_stats_page(c);
    if (E.opt.test_clock && strcmp(method, "POST") == 0 && strcmp(url, "/_emulator/clock") == 0)
        return emu_clock_step(c, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "step"));
    return api(c, url, method, r);
}
