/* upload.c: POST /v1/uploads/images (multipart, field "file") and serving uploads back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "emu.h"
#include "parse.h"
#include "respond.h"

/* Image type by magic bytes: JPEG, PNG, GIF, WebP; NULL otherwise. */
static const char *sniff(const unsigned char *d, size_t n, const char **ext) {
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) { *ext = "jpg"; return "image/jpeg"; }
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) { *ext = "png"; return "image/png"; }
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) { *ext = "gif"; return "image/gif"; }
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) { *ext = "webp"; return "image/webp"; }
    return NULL;
}

enum MHD_Result emu_upload(struct MHD_Connection *c, const char *body, size_t len, int too_big) {
    const char *data, *ext = "bin", *type, *why = NULL;
    size_t dlen;
    char boundary[EMU_BOUNDARY_MAX + 1], escname[6 * EMU_FILENAME_MAX + 1], out[2048];
    emu_part part;
    int blen, r;
    if (too_big)
        return emu_send_error(c, 413, "invalid_request_error", "file too large: images may be at most 20 MB",
                              NULL, NULL);
    blen = emu_multipart_boundary(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"), boundary,
                                  sizeof boundary);
    r = blen > 0 ? emu_multipart_field(body, len, boundary, (size_t)blen, "file", &part) : blen;
    switch (r) {
    case 0: break;
    case EMU_MP_NOT_FORM: why = "Content-Type must be multipart/form-data with a boundary"; break;
    case EMU_MP_BAD_BOUNDARY: why = "multipart boundary must be 1 to 70 characters of RFC 2046"; break;
    case EMU_MP_MALFORMED: why = "malformed multipart body"; break;
    case EMU_MP_LONG_NAME: why = "multipart filename: at most 255 bytes"; break;
    default: why = "multipart form field 'file' is required"; break;
    }
    if (why) return emu_send_error(c, 400, "invalid_request_error", why, NULL, NULL);
    data = part.data;
    dlen = part.len;
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
    emu_json_escape(escname, sizeof escname, part.filename[0] ? part.filename : u->name);
    snprintf(out, sizeof out, "{\"url\":\"%s/uploads/%s\",\"filename\":\"%s\",\"content_type\":\"%s\","
             "\"bytes\":%zu,\"created_at\":%lld}", E.base_url, u->name, escname, type, dlen,
             (long long)emu_now());
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
