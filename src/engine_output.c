/*
 * engine_output.c: a download's file. Called from libcurl's write callback
 * (C only, never Lua) on the first body byte of a 2xx answer, it decides,
 * before a single byte lands on disk, whether the answer may be appended to
 * the partial file, and keeps the answer's validator beside it at once, so a
 * resume after a crash or a cut still knows what it continues.
 *
 * Rules (the Lua layer relies on them):
 * - 200: the file is made anew: an existing file (or a planted symbolic link)
 *   at the path is removed, then the file is created exclusively (O_EXCL),
 *   never through a link (platform.h: sd_file_open).
 * - 206: only when a range was asked for (resume_from > 0), only when
 *   Content-Range starts at resume_from, only when the answer's validator is
 *   the If-Range one sent, and only when the file on disk still holds exactly
 *   resume_from bytes; then it is opened for appending, never through a
 *   link, never created.
 *   Anything else fails the transfer (kind "range_mismatch") with nothing written.
 * - validator_file: on a 200, the answer's ETag (else Last-Modified) is written
 *   there (created exclusively after removing what stood there), or the file is
 *   removed when the answer has none (or one with control bytes).
 * - max_file caps the bytes the file may reach (kind "too_large").
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "header.h"
#include "platform.h"
#include "range.h"

/* Longest validator kept (ETags are short; anything longer is not one we send back). */
#define SD_VALIDATOR_MAX 512

/* The value of the response header `name` in t->head (last one wins), or NULL; its length in *len. */
static const char *sd_head_value(const sd_transfer *t, const char *name, size_t *len) {
    const char *p = t->head.data, *end = t->head.data ? t->head.data + t->head.len : NULL, *v = NULL;
    size_t n = strlen(name);
    sd_header_field f;
    while (sd_header_next(&p, end, &f)) {
        if (f.name_len == n && sd_strncasecmp(f.name, name, n) == 0) {
            v = f.value;
            *len = f.value_len;
        }
    }
    return v;
}

/* The answer's validator (a strong ETag, else Last-Modified) as a NUL-terminated
 * copy in out, or 0 when it has none usable (empty, too long, control bytes). A
 * weak ETag (W/"...") promises no byte equality, so it never validates a range. */
static int sd_validator(const sd_transfer *t, char *out, size_t outlen) {
    size_t len = 0, i;
    const char *v = sd_head_value(t, "ETag", &len);
    if (v != NULL && len >= 2 && (v[0] == 'W' || v[0] == 'w') && v[1] == '/') v = NULL;
    if (v == NULL || len == 0) v = sd_head_value(t, "Last-Modified", &len);
    if (v == NULL || len == 0 || len >= outlen) return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) return 0;
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return 1;
}

/* Remove path (a file or a symbolic link, never what a link points to); 0, or -1 with errno. */
static int sd_remove(const char *path) {
    return (sd_path_remove(path) == 0 || errno == ENOENT) ? 0 : -1;
}

/* Create path anew (never through a symbolic link); the open file, or SD_NOFILE with errno. */
static sd_file sd_create(const char *path) {
    if (sd_remove(path) != 0) return SD_NOFILE;
    return sd_file_open(path, SD_WRITE | SD_CREATE | SD_EXCL);
}

/* Keep (or forget) the answer's validator beside the partial file. */
static int sd_keep_validator(sd_transfer *t) {
    char v[SD_VALIDATOR_MAX];
    size_t len;
    sd_file f;
    if (t->validator_file == NULL) return 0;
    if (!sd_validator(t, v, sizeof v)) {
        if (sd_remove(t->validator_file) == 0) return 0;
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot remove %s: %s", t->validator_file, sd_errstr(errno));
        return -1;
    }
    len = strlen(v);
    v[len++] = '\n';
    f = sd_create(t->validator_file);
    if (f == SD_NOFILE || sd_file_write(f, v, len) != 0) {
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot write %s: %s", t->validator_file, sd_errstr(errno));
        sd_file_close(f);
        return -1;
    }
    sd_file_close(f);
    return 0;
}

/* Whether a 206 answer continues the partial file: 0, or -1 with a failure recorded. */
static int sd_check_range(sd_transfer *t) {
    size_t len = 0;
    const char *cr = sd_head_value(t, "Content-Range", &len);
    char v[SD_VALIDATOR_MAX];
    long long first = -1, last = -1, total = -1;
    if (t->resume_from <= 0) {
        sd_transfer_fail(t, SD_FAIL_RANGE, "206 answer to a request that asked for no range");
        return -1;
    }
    if (cr == NULL || !sd_content_range(cr, len, &first, &last, &total) || first != t->resume_from) {
        sd_transfer_fail(t, SD_FAIL_RANGE, "206 answer does not continue the partial file at byte %lld "
                         "(Content-Range: %.*s)", t->resume_from, cr ? (int)(len > 120 ? 120 : len) : 4, cr ? cr : "none");
        return -1;
    }
    if (t->if_range != NULL && (!sd_validator(t, v, sizeof v) || strcmp(v, t->if_range) != 0)) {
        sd_transfer_fail(t, SD_FAIL_RANGE, "206 answer is of another version of the file "
                         "(sent If-Range %s, got %s)", t->if_range, sd_validator(t, v, sizeof v) ? v : "no validator");
        return -1;
    }
    return 0;
}

/* Open the download file for the current 2xx answer (see the rules above). 0, or -1 with a failure recorded. */
static int sd_output_open(sd_transfer *t) {
    sd_stat st;
    if (t->status == 206) {
        if (sd_check_range(t) != 0) return -1;
        t->out_file = sd_file_open(t->output, SD_APPEND);
        if (t->out_file == SD_NOFILE) {
            sd_transfer_fail(t, SD_FAIL_FILE, "cannot open %s: %s", t->output, sd_errstr(errno));
            return -1;
        }
        if (sd_file_info(t->out_file, &st) != 0 || st.type != SD_TYPE_FILE || st.size != t->resume_from) {
            sd_output_close(t);
            sd_transfer_fail(t, SD_FAIL_RANGE, "partial file %s changed during the download", t->output);
            return -1;
        }
        t->resumed = 1;
        return 0;
    }
    if (sd_keep_validator(t) != 0) return -1;
    t->out_file = sd_create(t->output);
    if (t->out_file == SD_NOFILE) {
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot create %s: %s", t->output, sd_errstr(errno));
        return -1;
    }
    t->resumed = 0;
    return 0;
}

int sd_output_write(sd_transfer *t, const char *p, size_t len) {
    if (t->out_file == SD_NOFILE && sd_output_open(t) != 0) return -1;
    if (t->max_file > 0 && (t->resumed ? t->resume_from : 0) + t->bytes + (long long)len > t->max_file) {
        sd_transfer_fail(t, SD_FAIL_TOO_LARGE, "download exceeds %lld bytes (max_download)", t->max_file);
        return -1;
    }
    /* straight to the file, no stdio buffer: what was received survives a killed process */
    if (sd_file_write(t->out_file, p, len) != 0) {
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot write %s: %s", t->output, sd_errstr(errno));
        return -1;
    }
    return 0;
}

void sd_output_end(sd_transfer *t, CURLcode code) {
    /* an empty 2xx body still leaves the file as the answer says */
    if (t->output != NULL && t->out_file == SD_NOFILE && code == CURLE_OK && t->fail == SD_FAIL_NONE &&
        t->status >= 200 && t->status < 300)
        sd_output_open(t);
    if (t->out_file != SD_NOFILE && sd_file_close(t->out_file) != 0 && code == CURLE_OK)
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot write %s: %s", t->output, sd_errstr(errno));
    t->out_file = SD_NOFILE;
}

void sd_output_close(sd_transfer *t) {
    sd_file_close(t->out_file);
    t->out_file = SD_NOFILE;
}
