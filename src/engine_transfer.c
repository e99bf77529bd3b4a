/*
 * engine_transfer.c: one transfer on an easy handle: its libcurl options, the
 * header and body callbacks (C buffers and files only, never Lua), the
 * connection guard, how it ends, and how its failure is classed for retry
 * policy. It calls only engine_output.c (a download's file), never the loop.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "header.h"
#include "url.h"
#include "platform.h"

/* At most this many bytes of header lines are kept per response. */
#define SD_HEAD_MAX (256 * 1024)

/* Most redirects followed. */
#define SD_MAX_REDIRS 5L

/* libcurl from 7.83.0 drops custom Authorization headers on a redirect to
 * another host, port or scheme; older versions only compare the host. */
#define SD_CURL_SAFE_AUTH_REDIRECT 0x075300

/* libcurl's receive buffer for downloads (its default is 16 KiB; curl -o uses 100 KiB). */
#define SD_DOWNLOAD_BUFFER (256L * 1024L)

/* CURLOPT_WRITEFUNCTION: 2xx bodies of downloads to their file, others to memory. A download
 * whose step has written its file budget already is paused (libcurl keeps the chunk and hands
 * it over again when the next step resumes it): one step never writes without bound. */
static size_t sd_write_cb(char *p, size_t size, size_t n, void *ud) {
    sd_transfer *t = ud;
    size_t len = size * n;
    if (t->output != NULL && t->status >= 200 && t->status < 300) {
        struct sd_engine *e = t->eng;
        int r;
        if (e->file_budget > 0 && e->step_bytes >= e->file_budget) {
            t->paused = 1;
            e->paused = 1;
            return CURL_WRITEFUNC_PAUSE;
        }
        r = sd_output_write(t, p, len);
        if (r == 1) return CURL_WRITEFUNC_PAUSE; /* the file is being opened: libcurl hands these bytes again */
        if (r != 0) return 0;
        e->step_bytes += (long long)len;
    } else {
        int r = sd_buf_add(&t->body, p, len);
        if (r == -1) {
            sd_transfer_fail(t, SD_FAIL_TOO_LARGE, "response body exceeds %lu bytes", (unsigned long)t->body.limit);
            return 0;
        }
        if (r != 0) {
            sd_transfer_fail(t, SD_FAIL_MEMORY, "not enough memory for the response body");
            return 0;
        }
    }
    t->bytes += (long long)len;
    return len;
}

/* Whether a peer address is link-local (169.254.0.0/16, fe80::/10, or either mapped into IPv6). */
static int sd_link_local(const struct sockaddr *sa, char *text, size_t textlen) {
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        const unsigned char *a = (const unsigned char *)&in->sin_addr;
        inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)textlen);
        return a[0] == 169 && a[1] == 254;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        const unsigned char *a = in6->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)textlen);
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return 1;
        return memcmp(a, mapped, 12) == 0 && a[12] == 169 && a[13] == 254;
    }
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: the guard sees the address libcurl really
 * connects to (after DNS, on every redirect and retry of an address). */
static curl_socket_t sd_open_socket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *address) {
    sd_transfer *t = ud;
    char text[INET6_ADDRSTRLEN] = "";
    (void)purpose;
    if (t->guard_link_local && sd_link_local(&address->addr, text, sizeof text)) {
        sd_transfer_fail(t, SD_FAIL_DENIED, "refused to connect to %s: a link-local address "
                         "(cloud metadata and local network services live there)", text);
        return CURL_SOCKET_BAD;
    }
    return (curl_socket_t)sd_socket_open(address->family, address->socktype, address->protocol);
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
        if (sd_strncasecmp(h->data, name, n) == 0 && h->data[n] == ':') return 1;
    }
    return 0;
}

/* Set up the multipart upload of one file; 0, or -1 with a failure recorded. */
static int sd_setup_form(sd_transfer *t, const char *name, const char *path, const char *filename,
                         const char *type) {
    sd_stat st;
    curl_mimepart *part;
    if (sd_path_stat(path, &st, 1) != 0) {
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot open %s: %s", path, sd_errstr(errno));
        return -1;
    }
    if (st.type != SD_TYPE_FILE) {
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot upload %s: not a regular file", path);
        return -1;
    }
    if (sd_path_readable(path) != 0) {
        sd_transfer_fail(t, SD_FAIL_FILE, "cannot open %s: %s", path, sd_errstr(errno));
        return -1;
    }
    t->mime = curl_mime_init(t->easy);
    if (t->mime == NULL || (part = curl_mime_addpart(t->mime)) == NULL ||
        curl_mime_name(part, name) != CURLE_OK ||
        curl_mime_filedata(part, path) != CURLE_OK ||
        (filename != NULL && curl_mime_filename(part, filename) != CURLE_OK) ||
        (type != NULL && curl_mime_type(part, type) != CURLE_OK)) {
        sd_transfer_fail(t, SD_FAIL_MEMORY, "cannot build the multipart upload");
        return -1;
    }
    curl_easy_setopt(t->easy, CURLOPT_MIMEPOST, t->mime);
    return 0;
}

/* Give t its error buffer (once); 0, or -1 with a failure recorded. */
static int sd_errbuf(sd_transfer *t) {
    if (t->errbuf == NULL && (t->errbuf = calloc(1, CURL_ERROR_SIZE)) == NULL) {
        sd_transfer_fail(t, SD_FAIL_MEMORY, "not enough memory");
        return -1;
    }
    t->errbuf[0] = '\0';
    return 0;
}

/* The options every transfer has, whatever it sends. */
static void sd_common_options(CURL *h, int guard) {
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sd_write_cb);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sd_header_cb);
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (guard) curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, sd_open_socket_cb);
}

/* The options a transfer points at itself with (set again for every transfer on a handle). */
static void sd_self_options(CURL *h, sd_transfer *t) {
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    if (t->guard_link_local) curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, t);
}

/* Which schemes a transfer and its redirects may use. */
static void sd_protocol_options(CURL *h, const char *redirect_protocols) {
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, redirect_protocols ? redirect_protocols : "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
                     (redirect_protocols && strcmp(redirect_protocols, "https") == 0)
                         ? (long)CURLPROTO_HTTPS : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

/* The CA bundle, for the host and for an https:// proxy. */
static void sd_ca_options(CURL *h, const char *ca_file) {
    if (ca_file == NULL) return;
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
#if LIBCURL_VERSION_NUM >= 0x073400
    /* the same bundle for an https:// proxy (from the option or https_proxy), which
     * libcurl verifies against its own CURLOPT_PROXY_CAINFO */
    curl_easy_setopt(h, CURLOPT_PROXY_CAINFO, ca_file);
#endif
}

/* How a transfer reaches its peer, the same for API calls (their profile's) and other requests (their
 * own): one HTTP/2 connection shared over TLS, the CA bundle, the proxy, TLS verification. */
static void sd_peer_options(CURL *h, const char *url, const char *ca_file, const char *proxy, int insecure) {
    /* over TLS, wait for a connection that may multiplex (HTTP/2) rather than open more */
    if (sd_strncasecmp(url, "https:", 6) == 0) curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    sd_ca_options(h, ca_file);
    /* NULL: libcurl reads https_proxy and no_proxy from the environment; "": none */
    if (proxy != NULL) curl_easy_setopt(h, CURLOPT_PROXY, proxy);
    if (insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

int sd_transfer_setup(sd_transfer *t, const sd_request *rq) {
    CURL *h = t->easy;
    int follow = rq->follow_redirects;
    /* An Authorization header we pass ourselves is only dropped across hosts by
     * libcurl >= 7.83.0 (host, port and scheme compared); with an older one,
     * such a transfer does not follow redirects and hands back the 3xx. */
    if (follow && rq->has_auth && curl_version_info(CURLVERSION_NOW)->version_num < SD_CURL_SAFE_AUTH_REDIRECT)
        follow = 0;
    if (sd_errbuf(t) != 0) return -1;
    sd_common_options(h, rq->guard_link_local);
    sd_self_options(h, t);
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    /* downloads: larger reads, so fewer callbacks and write calls per MiB
     * (each chunk still goes straight to the file) */
    if (rq->output != NULL) curl_easy_setopt(h, CURLOPT_BUFFERSIZE, SD_DOWNLOAD_BUFFER);
    sd_protocol_options(h, rq->redirect_protocols);
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
    sd_peer_options(h, rq->url, rq->ca_file, rq->proxy, rq->insecure);
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
            if (sd_setup_form(t, rq->form_name, rq->form_path, rq->form_filename, rq->form_type) != 0) return -1;
        } else if (rq->body != NULL || strcmp(rq->method, "DELETE") != 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
            if (curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, rq->body ? rq->body : "") != CURLE_OK) {
                sd_transfer_fail(t, SD_FAIL_MEMORY, "not enough memory for the request body");
                return -1;
            }
        }
        if (strcmp(rq->method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    return 0;
}

sd_transfer *sd_transfer_new(sd_request *rq) {
    sd_transfer *t = calloc(1, sizeof *t);
    struct curl_slist *h;
    if (t == NULL) {
        curl_slist_free_all(rq->headers);
        rq->headers = NULL;
        return NULL;
    }
    t->out_file = SD_NOFILE;
    t->headers = rq->headers;
    rq->headers = NULL;
    sd_buf_init(&t->body, rq->max_body);
    sd_buf_init(&t->head, SD_HEAD_MAX);
    t->resume_from = rq->resume_from;
    t->max_file = rq->max_file;
    t->guard_link_local = rq->guard_link_local;
    t->url = strdup(rq->url);
    if (t->url == NULL || (rq->output != NULL && (t->output = strdup(rq->output)) == NULL) ||
        (rq->validator_file != NULL && (t->validator_file = strdup(rq->validator_file)) == NULL) ||
        (rq->if_range != NULL && (t->if_range = strdup(rq->if_range)) == NULL))
        goto nomem;
    /* no Expect: 100-continue round trip for bodies and uploads */
    if (!sd_has_header(t->headers, "Expect")) {
        if ((h = curl_slist_append(t->headers, "Expect:")) == NULL) goto nomem;
        t->headers = h;
    }
    /* a resume names the validator it continues; the answer is checked against it */
    if (t->if_range != NULL && rq->resume_from > 0) {
        size_t n = strlen(t->if_range) + sizeof "If-Range: ";
        char *line = malloc(n);
        if (line == NULL) goto nomem;
        snprintf(line, n, "If-Range: %s", t->if_range);
        h = curl_slist_append(t->headers, line);
        free(line);
        if (h == NULL) goto nomem;
        t->headers = h;
    }
    return t;
nomem:
    sd_transfer_free(t);
    return NULL;
}

/* Free an API call's own request line (made here, not by curl_slist_append). */
static void sd_line_free(struct curl_slist *line) {
    if (line == NULL) return;
    free(line->data);
    free(line);
}

/* Free an API call's upload. */
static void sd_form_free(sd_form *f) {
    if (f == NULL) return;
    free(f->name);
    free(f->path);
    free(f->filename);
    free(f->type);
    free(f);
}

void sd_transfer_release_request(sd_transfer *t) {
    curl_mime_free(t->mime);
    t->mime = NULL;
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    sd_line_free(t->line);
    t->line = NULL;
    free(t->body_text);
    t->body_text = NULL;
    sd_form_free(t->form);
    t->form = NULL;
    sd_output_close(t);
}

void sd_transfer_record_end(sd_transfer *t, CURLcode code) {
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
    sd_output_end(t, code);
}

void sd_transfer_free(sd_transfer *t) {
    sd_transfer_release_request(t);
    sd_profile_release(t->prof);
    free(t->parsed);
    free(t->failmsg);
    free(t->errbuf);
    sd_buf_free(&t->body);
    sd_buf_free(&t->head);
    free(t->url);
    free(t->effective_url);
    free(t->output);
    free(t->validator_file);
    free(t->if_range);
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
    case SD_FAIL_RANGE: return "range_mismatch";
    case SD_FAIL_DENIED: return "denied";
    case SD_FAIL_DEADLINE: return "deadline";
    case SD_FAIL_PAUSED: return "paused";
    case SD_FAIL_NONE: break;
    }
    switch (t->code) {
    case CURLE_OK: return "other";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "dns";
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_SSL_CONNECT_ERROR: return "tls_connect"; /* a handshake that broke: may pass on a retry */
    case CURLE_PEER_FAILED_VERIFICATION: /* certificate or host name not verified: never passes on a retry */
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
    case CURLE_UNSUPPORTED_PROTOCOL: return "protocol"; /* e.g. a redirect to a scheme the request refuses */
    case CURLE_TOO_MANY_REDIRECTS: return "redirects";
    default: return "other";
    }
}

void sd_transfer_error(const sd_transfer *t, char *out, size_t outlen) {
    if (t->fail != SD_FAIL_NONE) snprintf(out, outlen, "%s", t->failmsg ? t->failmsg : "not enough memory");
    else if (t->errbuf != NULL && t->errbuf[0] != '\0') snprintf(out, outlen, "%s: %s", curl_easy_strerror(t->code), t->errbuf);
    else snprintf(out, outlen, "%s", curl_easy_strerror(t->code));
}

/* ---- API calls: a profile's settings, set once per easy handle ---------------------- */

sd_transfer *sd_api_new(sd_profile *p, const char *path, size_t path_len, const char *body, size_t body_len,
                        const char *header, double timeout_s, long long deadline_us, int shape) {
    sd_transfer *t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    t->out_file = SD_NOFILE;
    t->prof = p;
    p->refs++;
    t->shape = shape;
    t->deadline_us = deadline_us;
    t->guard_link_local = p->guard_link_local;
    sd_buf_init(&t->body, p->max_body);
    sd_buf_init(&t->head, SD_HEAD_MAX);
    if (timeout_s > 0) t->timeout_ms = timeout_s * 1000.0 >= 2147483647.0 ? 2147483647L : (long)ceil(timeout_s * 1000.0);
    else if (timeout_s < 0) t->timeout_ms = p->timeout_ms;
    t->url = malloc(p->base_len + path_len + 1);
    if (t->url == NULL) goto nomem;
    memcpy(t->url, p->base, p->base_len);
    memcpy(t->url + p->base_len, path, path_len);
    t->url[p->base_len + path_len] = '\0';
    if (body != NULL) {
        t->post = 1;
        if ((t->body_text = malloc(body_len + 1)) == NULL) goto nomem;
        memcpy(t->body_text, body, body_len);
        t->body_text[body_len] = '\0';
        t->body_text_len = body_len;
    }
    if (header != NULL) {
        if ((t->line = calloc(1, sizeof *t->line)) == NULL || (t->line->data = strdup(header)) == NULL) goto nomem;
    }
    return t;
nomem:
    sd_transfer_free(t);
    return NULL;
}

int sd_api_form(sd_transfer *t, const char *name, const char *path, const char *filename, const char *type) {
    sd_form *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    t->form = f;
    t->post = 1;
    if ((f->name = strdup(name)) == NULL || (f->path = strdup(path)) == NULL ||
        (filename != NULL && (f->filename = strdup(filename)) == NULL) ||
        (type != NULL && (f->type = strdup(type)) == NULL))
        return -1;
    return 0;
}

int sd_api_reusable(const sd_transfer *t) {
    return t->form == NULL;
}

int sd_api_setup(sd_transfer *t, int fresh) {
    CURL *h = t->easy;
    const sd_profile *p = t->prof;
    struct curl_slist *lines = t->body_text != NULL ? p->json_headers : p->get_headers;
    if (sd_errbuf(t) != 0) return -1;
    if (fresh || t->form != NULL) {
        /* the profile's settings: the same for every call, set once per handle */
        sd_common_options(h, p->guard_link_local);
        sd_protocol_options(h, NULL);
        if (t->eng->user_agent != NULL) curl_easy_setopt(h, CURLOPT_USERAGENT, t->eng->user_agent);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        if (p->connect_timeout_ms > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
        sd_peer_options(h, p->base, p->ca_file, p->proxy, 0); /* (an API call never skips verification) */
    }
    /* the call's own */
    sd_self_options(h, t);
    curl_easy_setopt(h, CURLOPT_URL, t->url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t->timeout_ms);
    if (t->line != NULL) {
        t->line->next = lines; /* the call's line, then the profile's (which it does not own) */
        lines = t->line;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, lines);
    if (t->form != NULL) {
        if (sd_setup_form(t, t->form->name, t->form->path, t->form->filename, t->form->type) != 0) return -1;
    } else if (t->body_text != NULL) {
        /* the body stays ours until the transfer ends: no copy */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_text_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->body_text);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    return 0;
}

long long sd_transfer_date(const sd_transfer *t) {
    const char *p = t->head.data, *end = t->head.data ? t->head.data + t->head.len : NULL;
    sd_header_field f;
    while (sd_header_next(&p, end, &f)) {
        if (f.name_len == 4 && sd_strncasecmp(f.name, "Date", 4) == 0 && f.value_len <= 128) {
            long long d = sd_http_date(f.value, f.value_len);
            if (d >= 0) return d;
        }
    }
    return -1;
}
