/*
 * engine_transfer.c: one transfer on an easy handle: its libcurl options, the
 * header and body callbacks (C buffers and files only, never Lua), how it
 * finishes, and how its failure is classed for retry policy.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_int.h"
#include "header.h"

/* At most this many bytes of header lines are kept per response. */
#define SD_HEAD_MAX (256 * 1024)

/* Most redirects followed. */
#define SD_MAX_REDIRS 5L

/* libcurl from 7.83.0 drops custom Authorization headers on a redirect to
 * another host, port or scheme; older versions only compare the host. */
#define SD_CURL_SAFE_AUTH_REDIRECT 0x075300

/* Record an engine-made failure. */
static void sd_set_fail(sd_transfer *t, sd_fail f, const char *msg) {
    t->fail = f;
    snprintf(t->failmsg, sizeof t->failmsg, "%s", msg);
}

/* Record a file failure naming the path and errno. */
static void sd_set_file_fail(sd_transfer *t, const char *what, const char *path, int err) {
    t->fail = SD_FAIL_FILE;
    snprintf(t->failmsg, sizeof t->failmsg, "%s %s: %s", what, path, strerror(err));
}

/* libcurl's receive buffer for downloads (its default is 16 KiB; curl -o uses 100 KiB). */
#define SD_DOWNLOAD_BUFFER (256L * 1024L)

/* Is this a 2xx status? */
static int sd_is_2xx(long status) {
    return status >= 200 && status < 300;
}

/* Open the download file for the current (2xx) response: appended to when the
 * server sent the asked-for range (206), else truncated. 0 or -1. */
static int sd_open_output(sd_transfer *t) {
    int append = t->resume_from > 0 && t->status == 206;
    int fd = open(t->output, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) {
        sd_set_file_fail(t, "cannot open", t->output, errno);
        return -1;
    }
    t->out = fdopen(fd, append ? "ab" : "wb");
    if (t->out == NULL) {
        int err = errno;
        close(fd);
        sd_set_file_fail(t, "cannot open", t->output, err);
        return -1;
    }
    /* Unbuffered: each libcurl chunk (up to SD_DOWNLOAD_BUFFER) goes straight to the file,
     * so what was received survives a killed process and a retry resumes after it. */
    setvbuf(t->out, NULL, _IONBF, 0);
    t->resumed = append;
    return 0;
}

/* CURLOPT_WRITEFUNCTION: 2xx bodies of downloads to their file, others to memory. */
static size_t sd_write_cb(char *p, size_t size, size_t n, void *ud) {
    sd_transfer *t = ud;
    size_t len = size * n;
    if (t->output != NULL && sd_is_2xx(t->status)) {
        if (t->out == NULL && sd_open_output(t) != 0) return 0;
        if (fwrite(p, 1, len, t->out) != len) {
            sd_set_file_fail(t, "cannot write", t->output, errno);
            return 0;
        }
    } else {
        int r = sd_buf_add(&t->body, p, len);
        if (r == -1) {
            char msg[64];
            snprintf(msg, sizeof msg, "response body exceeds %lu bytes", (unsigned long)t->body.limit);
            sd_set_fail(t, SD_FAIL_TOO_LARGE, msg);
            return 0;
        }
        if (r != 0) {
            sd_set_fail(t, SD_FAIL_MEMORY, "not enough memory for the response body");
            return 0;
        }
    }
    t->bytes += (long long)len;
    return len;
}

/* CURLOPT_HEADERFUNCTION: a status line starts a new response (1xx, redirect,
 * final); only the last one's headers and body are kept. */
static size_t sd_header_cb(char *p, size_t size, size_t n, void *ud) {
    sd_transfer *t = ud;
    size_t len = size * n;
    long code;
    if (sd_header_status(p, len, &code)) {
        t->status = code;
        sd_buf_reset(&t->head);
        sd_buf_reset(&t->body);
        t->bytes = 0;
    } else if (sd_buf_add(&t->head, p, len) != 0) {
        /* past the header cap or out of memory: later lines are dropped */
    }
    return len;
}

/* Whether the headers hold one named `name` (case-insensitive, "name:" prefix). */
static int sd_has_header(const struct curl_slist *h, const char *name) {
    size_t n = strlen(name);
    for (; h != NULL; h = h->next) {
        if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':') return 1;
    }
    return 0;
}

/* Set up the multipart upload; 0, or -1 with a failure recorded. */
static int sd_setup_form(sd_transfer *t, const sd_request *rq) {
    struct stat st;
    curl_mimepart *part;
    if (stat(rq->form_path, &st) != 0) {
        sd_set_file_fail(t, "cannot open", rq->form_path, errno);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        sd_set_file_fail(t, "cannot upload", rq->form_path, EISDIR);
        snprintf(t->failmsg, sizeof t->failmsg, "cannot upload %s: not a regular file", rq->form_path);
        return -1;
    }
    if (access(rq->form_path, R_OK) != 0) {
        sd_set_file_fail(t, "cannot open", rq->form_path, errno);
        return -1;
    }
    t->mime = curl_mime_init(t->easy);
    if (t->mime == NULL || (part = curl_mime_addpart(t->mime)) == NULL ||
        curl_mime_name(part, rq->form_name) != CURLE_OK ||
        curl_mime_filedata(part, rq->form_path) != CURLE_OK ||
        (rq->form_filename != NULL && curl_mime_filename(part, rq->form_filename) != CURLE_OK) ||
        (rq->form_type != NULL && curl_mime_type(part, rq->form_type) != CURLE_OK)) {
        sd_set_fail(t, SD_FAIL_MEMORY, "cannot build the multipart upload");
        return -1;
    }
    curl_easy_setopt(t->easy, CURLOPT_MIMEPOST, t->mime);
    return 0;
}

/* Set every option of a transfer on its (reset) easy handle. 0 or -1 with a failure recorded. */
static int sd_setup_easy(sd_transfer *t, const sd_request *rq) {
    CURL *h = t->easy;
    int follow = rq->follow_redirects;
    /* An Authorization header we pass ourselves is only dropped across hosts by
     * libcurl >= 7.83.0 (host, port and scheme compared); with an older one,
     * such a transfer does not follow redirects and hands back the 3xx. */
    if (follow && rq->has_auth && curl_version_info(CURLVERSION_NOW)->version_num < SD_CURL_SAFE_AUTH_REDIRECT)
        follow = 0;
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)t);
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sd_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sd_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* downloads: larger reads, so fewer callbacks and write calls per MiB
     * (each chunk still goes straight to the file) */
    if (rq->output != NULL) curl_easy_setopt(h, CURLOPT_BUFFERSIZE, SD_DOWNLOAD_BUFFER);
    /* over TLS, wait for a connection that may multiplex (HTTP/2) rather than open more */
    if (strncasecmp(rq->url, "https:", 6) == 0) curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (t->eng->user_agent != NULL) curl_easy_setopt(h, CURLOPT_USERAGENT, t->eng->user_agent);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    if (follow) {
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, SD_MAX_REDIRS);
        curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
    }
    if (rq->timeout_ms > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    if (rq->connect_timeout_ms > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms);
    if (rq->low_speed_time > 0) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, rq->low_speed_limit > 0 ? rq->low_speed_limit : 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, rq->low_speed_time);
    }
    if (rq->ca_file != NULL) curl_easy_setopt(h, CURLOPT_CAINFO, rq->ca_file);
    if (rq->proxy != NULL) curl_easy_setopt(h, CURLOPT_PROXY, rq->proxy);
    if (rq->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (rq->resume_from > 0) {
        /* CURLOPT_RANGE rather than RESUME_FROM: a 200 answer (If-Range
         * mismatch, no range support) is accepted and the file rewritten */
        char range[32];
        snprintf(range, sizeof range, "%lld-", rq->resume_from);
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    }
    if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET") != 0) {
        if (rq->form_name != NULL) {
            if (sd_setup_form(t, rq) != 0) return -1;
        } else if (rq->body != NULL || strcmp(rq->method, "DELETE") != 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
            if (curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, rq->body ? rq->body : "") != CURLE_OK) {
                sd_set_fail(t, SD_FAIL_MEMORY, "not enough memory for the request body");
                return -1;
            }
        }
        if (strcmp(rq->method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    return 0;
}

long long sd_engine_add(sd_engine *e, sd_request *rq) {
    sd_transfer *t = calloc(1, sizeof *t);
    if (t == NULL) {
        curl_slist_free_all(rq->headers);
        return -1;
    }
    t->eng = e;
    t->headers = rq->headers;
    rq->headers = NULL;
    sd_buf_init(&t->body, rq->max_body);
    sd_buf_init(&t->head, SD_HEAD_MAX);
    t->resume_from = rq->resume_from;
    t->url = strdup(rq->url);
    if (t->url == NULL || (rq->output != NULL && (t->output = strdup(rq->output)) == NULL)) {
        sd_transfer_free(t);
        return -1;
    }
    /* no Expect: 100-continue round trip for bodies and uploads */
    if (!sd_has_header(t->headers, "Expect")) {
        struct curl_slist *h = curl_slist_append(t->headers, "Expect:");
        if (h == NULL) {
            sd_transfer_free(t);
            return -1;
        }
        t->headers = h;
    }
    t->id = e->next_id++;
    sd_engine_track(e, t);
    t->easy = sd_engine_easy(e);
    if (t->easy == NULL) {
        sd_set_fail(t, SD_FAIL_MEMORY, "cannot make an easy handle");
    } else if (sd_setup_easy(t, rq) == 0 && curl_multi_add_handle(e->multi, t->easy) == CURLM_OK) {
        e->running++;
        return t->id;
    } else if (t->fail == SD_FAIL_NONE) {
        sd_set_fail(t, SD_FAIL_MEMORY, "curl_multi_add_handle failed");
    }
    /* failed before any IO: a result right away */
    if (t->easy != NULL) {
        sd_engine_release(e, t->easy);
        t->easy = NULL;
    }
    curl_mime_free(t->mime);
    t->mime = NULL;
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    t->code = CURLE_OK;
    sd_engine_queue(e, t);
    return t->id;
}

void sd_transfer_detach(sd_transfer *t) {
    sd_engine *e = t->eng;
    curl_multi_remove_handle(e->multi, t->easy);
    sd_engine_release(e, t->easy); /* reset: no option points at our memory any more */
    t->easy = NULL;
    e->running--;
    curl_mime_free(t->mime);
    t->mime = NULL;
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    if (t->out != NULL) {
        fclose(t->out);
        t->out = NULL;
    }
}

void sd_transfer_finish(sd_transfer *t, CURLcode code) {
    CURL *h = t->easy;
    char *url = NULL;
    long status = 0;
    curl_off_t cl = -1;
    t->code = code;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0) t->status = status;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &t->time);
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0) t->total = (long long)cl;
    if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL)
        t->effective_url = strdup(url);
    if (t->out != NULL) {
        FILE *f = t->out;
        t->out = NULL;
        if (fclose(f) != 0 && code == CURLE_OK && t->fail == SD_FAIL_NONE)
            sd_set_file_fail(t, "cannot write", t->output, errno);
    } else if (t->output != NULL && code == CURLE_OK && t->fail == SD_FAIL_NONE && sd_is_2xx(t->status)) {
        /* an empty 2xx body still leaves the file as the answer says */
        if (sd_open_output(t) == 0 && fclose(t->out) != 0)
            sd_set_file_fail(t, "cannot write", t->output, errno);
        t->out = NULL;
    }
    sd_transfer_detach(t);
    sd_engine_queue(t->eng, t);
}

void sd_transfer_free(sd_transfer *t) {
    if (t->out != NULL) fclose(t->out);
    curl_mime_free(t->mime);
    curl_slist_free_all(t->headers);
    sd_buf_free(&t->body);
    sd_buf_free(&t->head);
    free(t->url);
    free(t->effective_url);
    free(t->output);
    free(t);
}

long long sd_transfer_total(sd_transfer *t) {
    curl_off_t cl = -1;
    if (t->easy == NULL) return t->total;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0)
        return (long long)cl;
    return 0;
}

int sd_transfer_ok(const sd_transfer *t) {
    return t->code == CURLE_OK && t->fail == SD_FAIL_NONE;
}

const char *sd_transfer_kind(const sd_transfer *t) {
    switch (t->fail) {
    case SD_FAIL_TOO_LARGE: return "too_large";
    case SD_FAIL_FILE: return "file";
    case SD_FAIL_MEMORY: return "other";
    case SD_FAIL_NONE: break;
    }
    switch (t->code) {
    case CURLE_OK: return "other";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "dns";
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED: return "tls";
    case CURLE_SEND_ERROR: return "send";
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY: return "recv";
    case CURLE_READ_ERROR:
    case CURLE_FILE_COULDNT_READ_FILE: return "file";
    case CURLE_ABORTED_BY_CALLBACK: return "aborted";
    default: return "other";
    }
}

void sd_transfer_error(const sd_transfer *t, char *out, size_t outlen) {
    if (t->fail != SD_FAIL_NONE) snprintf(out, outlen, "%s", t->failmsg);
    else if (t->errbuf[0] != '\0') snprintf(out, outlen, "%s: %s", curl_easy_strerror(t->code), t->errbuf);
    else snprintf(out, outlen, "%s", curl_easy_strerror(t->code));
}
