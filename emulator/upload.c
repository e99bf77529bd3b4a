/* upload.c: POST /v1/uploads/images (multipart, field "file") and serving uploads back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "emu.h"
#include "respond.h"

/* Find needle in haystack (binary safe). */
static const char *memfind(const char *h, size_t hl, const char *n, size_t nl) {
    if (nl == 0 || hl < nl) return NULL;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0) return h + i;
    return NULL;
}

/* Image type by magic bytes: JPEG, PNG, GIF, WebP; NULL otherwise. */
static const char *sniff(const unsigned char *d, size_t n, const char **ext) {
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) { *ext = "jpg"; return "image/jpeg"; }
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) { *ext = "png"; return "image/png"; }
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) { *ext = "gif"; return "image/gif"; }
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) { *ext = "webp"; return "image/webp"; }
    return NULL;
}

/* The part named "file": its bytes and filename. Returns 0 when found. */
static int file_part(struct MHD_Connection *c, const char *body, size_t len, const char **data,
                     size_t *dlen, char *filename, size_t fcap) {
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *b = ct ? strstr(ct, "boundary=") : NULL;
    char delim[128];
    size_t dl;
    if (!b) return -1;
    b += 9;
    if (*b == '"') b++;
    dl = (size_t)snprintf(delim, sizeof delim, "--%.*s", (int)strcspn(b, "\";"), b);
    const char *p = memfind(body, len, delim, dl), *end = body + len;
    while (p) {
        const char *hdr = p + dl, *hend = memfind(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
        if (!hend) return -1;
        const char *next = memfind(hend + 4, (size_t)(end - hend - 4), delim, dl);
        if (!next) return -1;
        const char *name = memfind(hdr, (size_t)(hend - hdr), "name=\"file\"", 11);
        if (name) {
            const char *fn = memfind(hdr, (size_t)(hend - hdr), "filename=\"", 10);
            filename[0] = '\0';
            if (fn) {
                fn += 10;
                size_t n = strcspn(fn, "\"\r\n");
                snprintf(filename, fcap, "%.*s", (int)n, fn);
            }
            *data = hend + 4;
            *dlen = (size_t)(next - 2 - *data); /* the part ends with CRLF before the delimiter */
            return next - 2 >= *data ? 0 : -1;
        }
        p = next;
    }
    return -1;
}

enum MHD_Result emu_upload(struct MHD_Connection *c, const char *body, size_t len, int too_big) {
    const char *data, *ext = "bin", *type;
    size_t dlen;
    char filename[200], escname[420], out[800];
    if (too_big)
        return emu_send_error(c, 413, "invalid_request_error", "file too large: images may be at most 20 MB",
                              NULL, NULL);
    if (file_part(c, body, len, &data, &dlen, filename, sizeof filename) != 0)
        return emu_send_error(c, 400, "invalid_request_error",
                              "multipart form field 'file' is required", NULL, NULL);
    if (dlen > (size_t)EMU_UPLOAD_MAX)
        return emu_send_error(c, 413, "invalid_request_error", "file too large: images may be at most 20 MB",
                              NULL, NULL);
    type = sniff((const unsigned char *)data, dlen, &ext);
    if (!type)
        return emu_send_error(c, 400, "invalid_request_error",
                              "unsupported file type: upload a JPEG, PNG, WebP or GIF image", NULL, NULL);
    unsigned char *copy = malloc(dlen ? dlen : 1);
    if (!copy) return emu_send_error(c, 500, "server_error", "out of memory", NULL, NULL);
    memcpy(copy, data, dlen);
    pthread_mutex_lock(&E.lock);
    struct emu_upload *u = &E.uploads[E.next_upload % EMU_UPLOADS];
    free(u->data);
    u->data = copy;
    u->len = dlen;
    snprintf(u->type, sizeof u->type, "%s", type);
    snprintf(u->name, sizeof u->name, "up_%d.%s", E.next_upload, ext);
    E.next_upload++;
    E.stats.uploads++;
    emu_json_escape(escname, sizeof escname, filename[0] ? filename : u->name);
    snprintf(out, sizeof out, "{\"url\":\"%s/uploads/%s\",\"filename\":\"%s\",\"content_type\":\"%s\","
             "\"bytes\":%zu,\"created_at\":%lld}", E.base_url, u->name, escname, type, dlen,
             (long long)time(NULL));
    pthread_mutex_unlock(&E.lock);
    return emu_send_json(c, 200, out, NULL, NULL);
}

enum MHD_Result emu_upload_get(struct MHD_Connection *c, const char *name) {
    enum MHD_Result r;
    pthread_mutex_lock(&E.lock);
    for (int i = 0; i < EMU_UPLOADS; i++) {
        struct emu_upload *u = &E.uploads[i];
        if (u->data && strcmp(u->name, name) == 0) {
            r = emu_send(c, 200, u->type, (const char *)u->data, u->len, NULL, NULL);
            pthread_mutex_unlock(&E.lock);
            return r;
        }
    }
    pthread_mutex_unlock(&E.lock);
    return emu_send_error(c, 404, "invalid_request_error", "no such upload", NULL, NULL);
}
