/*
 * serve.c: GET /media/{task}.mp4|.png: the result files, with Range (206 and
 * Content-Range; 416 when malformed or unsatisfiable, see emu_range_parse),
 * If-Range, expiry (403 after --url-ttl), a synthetic video of --video-bytes
 * bytes made on the fly, and an optional per-download byte rate (--media-rate).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "emu.h"
#include "parse.h"
#include "respond.h"

/* A body produced by a callback: synthetic bytes or a paced copy of a fixture. */
typedef struct {
    const unsigned char *fixture; /* NULL: synthetic bytes */
    long long start;              /* first byte offset served */
    long long len;                /* bytes to serve */
    double began;                 /* for --media-rate pacing */
} emu_stream;

/* The synthetic video: an MP4 'ftyp' box, then an 'mdat' box of filler that
 * repeats every FILL bytes (copied, not computed per byte: about 10 GB/s). */
#define FILL 65536
static unsigned char fill[FILL];
static pthread_once_t fill_once = PTHREAD_ONCE_INIT;

static void fill_init(void) {
    for (unsigned i = 0; i < FILL; i++) fill[i] = (unsigned char)((i * 2654435761u) >> 13);
}

/* Byte o (< 32) of the synthetic video's header. */
static unsigned char synthetic_head(long long o, long long total) {
    static const unsigned char head[32] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0,
                                           'i', 's', 'o', 'm', 'm', 'p', '4', '1', 0, 0, 0, 0, 'm', 'd', 'a', 't'};
    if (o >= 24 && o < 28) { /* mdat size, big-endian 32-bit (1: too big for 32 bits) */
        long long m = total - 24;
        unsigned long long v = m > 0xFFFFFFFFLL ? 1 : (unsigned long long)m;
        return (unsigned char)(v >> (8 * (27 - o)));
    }
    return head[o];
}

/* Copy n bytes of the synthetic video from offset off into buf. */
static void synthetic(char *buf, long long off, size_t n, long long total) {
    pthread_once(&fill_once, fill_init);
    while (n > 0 && off < 32) {
        *buf++ = (char)synthetic_head(off++, total);
        n--;
    }
    while (n > 0) {
        size_t at = (size_t)(off % FILL), k = FILL - at < n ? FILL - at : n;
        memcpy(buf, fill + at, k);
        buf += k;
        off += (long long)k;
        n -= k;
    }
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    emu_stream *s = cls;
    long long left = s->len - (long long)pos;
    if (left <= 0) return MHD_CONTENT_READER_END_OF_STREAM;
    if ((long long)max > left) max = (size_t)left;
    if (max > 65536) max = 65536;
    if (E.opt.media_rate > 0) { /* pace: small chunks, never ahead of rate * elapsed */
        size_t chunk = (size_t)(E.opt.media_rate / 20);
        if (chunk < 512) chunk = 512;
        if (max > chunk) max = chunk;
        double due = s->began + (double)(pos + max) / (double)E.opt.media_rate, now = emu_mono();
        if (due > now) {
            struct timespec ts;
            double d = due - now;
            ts.tv_sec = (time_t)d;
            ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
            nanosleep(&ts, NULL);
        }
    }
    long long off = s->start + (long long)pos;
    if (s->fixture) {
        memcpy(buf, s->fixture + off, max);
    } else {
        synthetic(buf, off, max, E.opt.video_bytes);
    }
    return (ssize_t)max;
}

enum MHD_Result emu_media(struct MHD_Connection *c, const char *name) {
    char id[64], etag[80], cr[96];
    const char *status;
    int progress, png;
    double done_at;
    emu_task copy;
    const unsigned char *fixture;
    long long size, a = 0, b = 0;

    if (emu_media_name(name, id, sizeof id, &png) != 0)
        return emu_send_error(c, 404, "invalid_request_error", "not found", NULL, NULL);
    pthread_mutex_lock(&E.lock);
    E.stats.media_requests++;
    /* the key belongs to the API host only: count any client that leaks it here */
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")) E.stats.media_auth++;
    emu_task *t = emu_task_id_valid(id) ? emu_task_find(id) : NULL;
    if (t) copy = *t;
    pthread_mutex_unlock(&E.lock);
    if (!t) return emu_send_error(c, 404, "invalid_request_error", "no such file", NULL, NULL);
    emu_task_state(&copy, emu_mono(), &status, &progress, &done_at);
    if (strcmp(status, "completed") != 0 || (png && !copy.last_frame))
        return emu_send_error(c, 404, "invalid_request_error", "no such file", NULL, NULL);
    if (emu_mono() > done_at + E.opt.url_ttl)
        return emu_send_error(c, 403, "permission_error", "this URL has expired", NULL, NULL);

    if (png) { fixture = E.png; size = (long long)E.png_len; }
    else if (E.opt.video_bytes > 0) { fixture = NULL; size = E.opt.video_bytes; }
    else {
        size_t n;
        fixture = emu_fixture(copy.aspect, copy.duration, &n);
        size = (long long)n;
    }
    snprintf(etag, sizeof etag, "\"%s%s\"", copy.id, png ? "-png" : "");
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
    int ranged = emu_range_parse(range, size, &a, &b);
    if (ranged != EMU_RANGE_NONE && if_range && strcmp(if_range, etag) != 0)
        ranged = EMU_RANGE_NONE; /* changed: send it whole */
    if (ranged == EMU_RANGE_BAD) { /* malformed or past the end */
        snprintf(cr, sizeof cr, "bytes */%lld", size);
        return emu_send(c, 416, "application/json", "{}", 2, "Content-Range", cr);
    }
    if (ranged == EMU_RANGE_NONE) { a = 0; b = size - 1; }
    else {
        pthread_mutex_lock(&E.lock);
        E.stats.range_requests++;
        pthread_mutex_unlock(&E.lock);
    }

    struct MHD_Response *r;
    if (fixture && E.opt.media_rate <= 0) {
        r = MHD_create_response_from_buffer((size_t)(b - a + 1), (void *)(fixture + a), MHD_RESPMEM_PERSISTENT);
    } else {
        emu_stream *s = malloc(sizeof *s);
        if (!s) return MHD_NO;
        s->fixture = fixture;
        s->start = a;
        s->len = b - a + 1;
        s->began = emu_mono();
        r = MHD_create_response_from_callback((uint64_t)(b - a + 1), 65536, stream_read, s, free);
        if (!r) free(s);
    }
    if (!r) return MHD_NO;
    char date[64];
    emu_http_date(date, sizeof date);
    MHD_add_response_header(r, "Date", date);
    MHD_add_response_header(r, "Content-Type", png ? "image/png" : "video/mp4");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "ETag", etag);
    if (ranged == EMU_RANGE_OK) {
        snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", a, b, size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ok = MHD_queue_response(c, ranged == EMU_RANGE_OK ? 206 : 200, r);
    MHD_destroy_response(r);
    return ok;
}
