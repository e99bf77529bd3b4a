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
 * The files are made on the engine's worker thread (jobs.c: creating a file
 * can take milliseconds on a busy disk, too long for a host's frame): the
 * transfer is paused at its first body byte and goes on once the worker has
 * opened its file (sd_output_opened, from the step that collects the job).
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

/* The job that opens the download file for the current 2xx answer (see the rules above), or NULL
 * with a failure recorded. */
static sd_job *sd_output_job(sd_transfer *t) {
    char v[SD_VALIDATOR_MAX];
    sd_job *j;
    if (t->status == 206 && sd_check_range(t) != 0) return NULL;
    j = sd_job_new(SD_JOB_OUTPUT);
    if (j == NULL || (j->path = strdup(t->output)) == NULL) goto nomem;
    if (t->status == 206) {
        j->max = t->resume_from;
        return j;
    }
    if (t->validator_file != NULL) {
        if ((j->path2 = strdup(t->validator_file)) == NULL) goto nomem;
        if (sd_validator(t, v, sizeof v)) {
            size_t len = strlen(v);
            if ((j->data = malloc(len + 1)) == NULL) goto nomem;
            memcpy(j->data, v, len);
            j->data[len] = '\n';
            j->len = len + 1;
        }
    }
    return j;
nomem:
    sd_job_free(j);
    sd_transfer_fail(t, SD_FAIL_MEMORY, "not enough memory to open %s", t->output);
    return NULL;
}

int sd_output_opened(sd_transfer *t, sd_job *j) {
    t->out_job = 0;
    if (j->ok) {
        t->out_file = j->file;
        j->file = SD_NOFILE;
        t->resumed = j->max > 0;
        return 0;
    }
    switch (j->stage) {
    case SD_OUT_VALIDATOR:
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot %s %s: %s", j->data != NULL ? "write" : "remove", t->validator_file,
                         sd_errstr(j->err));
        break;
    case SD_OUT_OPEN:
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot open %s: %s", t->output, sd_errstr(j->err));
        break;
    case SD_OUT_CHANGED:
        sd_transfer_fail(t, SD_FAIL_RANGE, "partial file %s changed during the download", t->output);
        break;
    default:
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot create %s: %s", t->output, sd_errstr(j->err));
        break;
    }
    return -1;
}

/* Open the download file now, on this thread. 0, or -1 with a failure recorded. */
static int sd_output_open_here(sd_transfer *t) {
    sd_job *j = sd_output_job(t);
    int r;
    if (j == NULL) return -1;
    sd_job_output(j);
    r = sd_output_opened(t, j);
    sd_job_free(j);
    return r;
}

int sd_output_write(sd_transfer *t, const char *p, size_t len) {
    if (t->out_file == SD_NOFILE) {
        sd_job *j;
        long long id;
        if (t->fail != SD_FAIL_NONE) return -1; /* (its opening failed: the transfer ends) */
        if (t->out_job != 0) return 1;           /* (still being opened) */
        /* the file is made on the engine's worker (creating one can take milliseconds): the transfer
         * waits, paused, and the step that collects the job opens it again */
        j = sd_output_job(t);
        if (j == NULL) return -1;
        id = sd_engine_output_job(t->eng, j, t);
        if (id > 0) {
            t->out_job = id;
            t->eng->files_worker++;
            return 1;
        }
        t->eng->files_here++;
        if (sd_output_open_here(t) != 0) return -1; /* no worker: here */
    }
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
    sd_output_forget(t);
    /* an empty 2xx body still leaves the file as the answer says */
    if (t->output != NULL && t->out_file == SD_NOFILE && code == CURLE_OK && t->fail == SD_FAIL_NONE &&
        t->status >= 200 && t->status < 300) {
        t->eng->files_here++; /* (an empty body: the file is made as the transfer ends) */
        sd_output_open_here(t);
    }
    if (t->out_file != SD_NOFILE && sd_file_close(t->out_file) != 0 && code == CURLE_OK)
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot write %s: %s", t->output, sd_errstr(errno));
    t->out_file = SD_NOFILE;
}

void sd_output_forget(sd_transfer *t) {
    if (t->out_job != 0) {
        sd_jobs_cancel(&t->eng->jobs, t->out_job); /* (a file it makes is closed by the worker) */
        t->out_job = 0;
    }
}

void sd_output_close(sd_transfer *t) {
    sd_output_forget(t);
    sd_file_close(t->out_file);
    t->out_file = SD_NOFILE;
}
