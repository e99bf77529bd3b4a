/*
 * redis.c: a Redis connection on the engine's loop (redis.h says how it fits).
 *
 * States: IDLE (no socket) -> CONNECTING (a non-blocking connect under way,
 * watched for writability) -> HANDSHAKE (TLS only) -> READY. Commands are
 * written by hiredis's formatter into `out` as they are asked for (while IDLE
 * or CONNECTING too) and sent in order once READY; replies are read by
 * hiredis's reader and matched to the commands in order (`wait` is a FIFO).
 * With a password, AUTH goes first on every connection; its reply is the
 * connection's own. Any failure fails every command the connection holds
 * (each gets a result) and returns to IDLE: the next command connects again,
 * so a Redis that restarts is reached again without anyone closing anything.
 *
 * TLS (redis_tls.c) goes through OpenSSL with a BIO of our own on the
 * socket; this file drives its handshake, reads and writes.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_int.h"

#ifdef SD_HAVE_HIREDIS

/* Bytes read from the socket per call. */
#define SD_REDIS_CHUNK 16384


int sd_redis_available(void) {
    return 1;
}

int sd_redis_tls_available(void) {
#ifdef SD_HAVE_OPENSSL
    return 1;
#else
    return 0;
#endif
}

/* A copy of s, or NULL for NULL; *fail set when memory ran out. */
static char *sd_rdup(const char *s, int *fail) {
    char *d;
    if (s == NULL) return NULL;
    d = malloc(strlen(s) + 1);
    if (d == NULL) {
        *fail = 1;
        return NULL;
    }
    strcpy(d, s);
    return d;
}

/* Queue a result for id. */
static void sd_rresult(sd_redis *c, sd_redis_result *r) {
    r->next = NULL;
    if (c->res_tail != NULL) c->res_tail->next = r;
    else c->res_head = r;
    c->res_tail = r;
}

/* Queue a failure result for id (without memory, the command's waiter gets nothing: it is rare and
 * the Lua side's own deadline ends the wait). */
static void sd_rfail_one(sd_redis *c, long long id, const char *kind, const char *msg) {
    sd_redis_result *r = calloc(1, sizeof *r);
    if (r == NULL) return;
    r->id = id;
    r->ok = 0;
    r->kind = kind;
    snprintf(r->error, sizeof r->error, "%s", msg);
    sd_rresult(c, r);
}

/* Drop the socket and everything of the connection (back to IDLE); commands are untouched. */
static void sd_rdisconnect(sd_redis *c) {
#ifdef SD_HAVE_OPENSSL
    if (c->ssl != NULL) {
        SSL_free(c->ssl); /* no close_notify: the socket may be gone */
        c->ssl = NULL;
    }
#endif
    sd_tcp_close(c->sock);
    c->sock = SD_BAD_SOCKET;
    sd_tcp_addrs_free(c->addrs);
    c->addrs = NULL;
    if (c->reader != NULL) redisReaderFree(c->reader);
    c->reader = NULL;
    c->state = SD_R_IDLE;
    c->deadline = -1;
    c->want_tls = 0;
}

/* The connection failed: every command gets a failure result, and the connection is IDLE. */
static void sd_rfail(sd_redis *c, const char *kind, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    sd_rwait *w = c->wait_head;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    while (w != NULL) {
        sd_rwait *next = w->next;
        if (w->id != 0) sd_rfail_one(c, w->id, kind, msg);
        free(w);
        w = next;
    }
    c->wait_head = c->wait_tail = NULL;
    c->nwait = 0;
    sd_buf_reset(&c->out);
    c->out_off = 0;
    sd_rdisconnect(c);
}

/* Format argv into out; 0, or -1 when memory ran out. */
static int sd_rformat(sd_buf *out, int argc, const char **argv, const size_t *lens) {
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
    int rc;
    if (n < 0 || cmd == NULL) return -1;
    rc = sd_buf_add(out, cmd, (size_t)n);
    redisFreeCommand(cmd);
    return rc == 0 ? 0 : -1;
}

/* Add a waiter at the head (first = 1) or the tail of the FIFO; 0, or -1. */
static int sd_rwait_add(sd_redis *c, long long id, int first) {
    sd_rwait *w = malloc(sizeof *w);
    if (w == NULL) return -1;
    w->id = id;
    w->next = NULL;
    if (first) {
        w->next = c->wait_head;
        c->wait_head = w;
        if (c->wait_tail == NULL) c->wait_tail = w;
    } else {
        if (c->wait_tail != NULL) c->wait_tail->next = w;
        else c->wait_head = w;
        c->wait_tail = w;
    }
    c->nwait++;
    return 0;
}

/* Put AUTH before the commands queued (a new connection). 0, or -1 when memory ran out. */
static int sd_rauth_first(sd_redis *c) {
    sd_buf b;
    const char *argv[3];
    size_t lens[3];
    int argc = 0;
    if (c->password == NULL) return 0;
    argv[argc] = "AUTH";
    lens[argc++] = 4;
    if (c->user != NULL) {
        argv[argc] = c->user;
        lens[argc++] = strlen(c->user);
    }
    argv[argc] = c->password;
    lens[argc++] = strlen(c->password);
    sd_buf_init(&b, 0);
    if (sd_rformat(&b, argc, argv, lens) != 0 ||
        (c->out.len > c->out_off && sd_buf_add(&b, c->out.data + c->out_off, c->out.len - c->out_off) != 0) ||
        sd_rwait_add(c, 0, 1) != 0) {
        sd_buf_free(&b);
        return -1;
    }
    /* (the password's bytes in the old buffer are gone with it) */
    sd_buf_free(&c->out);
    c->out = b;
    c->out_off = 0;
    return 0;
}

/* Start connecting to the next address (or fail when none is left). */
static void sd_rconnect_next(sd_redis *c, long long now_us, int last_err) {
    for (;;) {
        int rc = sd_tcp_start(c->addrs, c->addr_i, &c->sock);
        if (rc == 0) {
            c->state = SD_R_CONNECTING;
            c->deadline = now_us + (long long)c->timeout_ms * 1000;
            return;
        }
        if (rc == 1) {
            sd_rfail(c, "connect", "cannot connect to %s:%d: %s", c->host, c->port,
                     sd_errstr(last_err ? last_err : ECONNREFUSED));
            return;
        }
        last_err = errno;
        c->addr_i++;
    }
}

/* Start a connection (IDLE with commands to send). */
static void sd_rconnect(sd_redis *c, long long now_us) {
    char err[200];
    c->addrs = sd_tcp_resolve(c->host, c->port, err, sizeof err);
    if (c->addrs == NULL) {
        sd_rfail(c, "connect", "%s", err);
        return;
    }
    c->reader = redisReaderCreate();
    if (c->reader == NULL || sd_rauth_first(c) != 0) {
        sd_rfail(c, "memory", "not enough memory");
        return;
    }
    c->addr_i = 0;
    sd_rconnect_next(c, now_us, 0);
}


/* Hand every complete reply to its command. 0, or -1 (the connection failed). */
static int sd_rreplies(sd_redis *c) {
    for (;;) {
        void *reply = NULL;
        sd_rwait *w;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            sd_rfail(c, "protocol", "redis protocol error: %s", c->reader->errstr);
            return -1;
        }
        if (reply == NULL) return 0;
        w = c->wait_head;
        if (w == NULL) { /* a reply nobody asked for */
            freeReplyObject(reply);
            sd_rfail(c, "protocol", "redis sent a reply to no command");
            return -1;
        }
        c->wait_head = w->next;
        if (c->wait_head == NULL) c->wait_tail = NULL;
        c->nwait--;
        if (w->id == 0) { /* AUTH */
            redisReply *r = reply;
            if (r->type == REDIS_REPLY_ERROR) {
                char msg[200];
                snprintf(msg, sizeof msg, "redis refused the password: %.*s", (int)(r->len > 150 ? 150 : r->len),
                         r->str);
                freeReplyObject(reply);
                free(w);
                sd_rfail(c, "auth", "%s", msg);
                return -1;
            }
            freeReplyObject(reply);
        } else {
            sd_redis_result *res = calloc(1, sizeof *res);
            if (res == NULL) {
                freeReplyObject(reply);
                free(w);
                sd_rfail(c, "memory", "not enough memory");
                return -1;
            }
            res->id = w->id;
            res->ok = 1;
            res->reply = reply;
            sd_rresult(c, res);
        }
        free(w);
    }
}

/* Read what the socket (or TLS) has. 0, or -1 (the connection failed). */
static int sd_rread(sd_redis *c, long long now_us) {
    char buf[SD_REDIS_CHUNK];
    for (;;) {
        long n;
#ifdef SD_HAVE_OPENSSL
        if (c->ssl != NULL) {
            int rc = SSL_read(c->ssl, buf, (int)sizeof buf);
            if (rc <= 0) {
                short w = sd_tls_wants(c, rc);
                if (w == POLLIN) return 0;
                if (w == POLLOUT) {
                    c->want_tls = POLLOUT;
                    return 0;
                }
                sd_rfail(c, "closed", "redis %s:%d closed the connection", c->host, c->port);
                return -1;
            }
            n = rc;
        } else
#endif
        {
            n = sd_tcp_recv(c->sock, buf, sizeof buf);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
            if (n <= 0) {
                sd_rfail(c, "closed", "redis %s:%d closed the connection%s%s", c->host, c->port, n < 0 ? ": " : "",
                         n < 0 ? sd_errstr(errno) : "");
                return -1;
            }
        }
        if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
            sd_rfail(c, "protocol", "redis protocol error: %s", c->reader->errstr);
            return -1;
        }
        c->deadline = c->nwait > 0 ? now_us + (long long)c->timeout_ms * 1000 : -1; /* it answers */
        if (sd_rreplies(c) != 0) return -1;
        if (c->nwait == 0) c->deadline = -1;
    }
}

/* Send what is queued. 0, or -1 (the connection failed). */
static int sd_rwrite(sd_redis *c) {
    while (c->out_off < c->out.len) {
        size_t left = c->out.len - c->out_off;
        long n;
#ifdef SD_HAVE_OPENSSL
        if (c->ssl != NULL) {
            int rc = SSL_write(c->ssl, c->out.data + c->out_off, left > 1 << 30 ? 1 << 30 : (int)left);
            if (rc <= 0) {
                short w = sd_tls_wants(c, rc);
                if (w != 0) {
                    c->want_tls = w;
                    return 0;
                }
                sd_rfail(c, "closed", "redis %s:%d closed the connection", c->host, c->port);
                return -1;
            }
            n = rc;
        } else
#endif
        {
            n = sd_tcp_send(c->sock, c->out.data + c->out_off, left);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
            if (n < 0) {
                sd_rfail(c, "closed", "redis %s:%d: %s", c->host, c->port, sd_errstr(errno));
                return -1;
            }
        }
        c->out_off += (size_t)n;
    }
    sd_buf_reset(&c->out);
    c->out_off = 0;
    return 0;
}

/* The connect finished (the socket turned writable): go on with TLS or be READY. */
static void sd_rconnected(sd_redis *c, long long now_us) {
    int e = sd_tcp_result(c->sock);
    if (e != 0) {
        sd_tcp_close(c->sock);
        c->sock = SD_BAD_SOCKET;
        c->addr_i++;
        sd_rconnect_next(c, now_us, e);
        return;
    }
    sd_tcp_addrs_free(c->addrs);
    c->addrs = NULL;
    if (c->tls) {
#ifdef SD_HAVE_OPENSSL
        if (sd_tls_start(c) != 0) {
            sd_rfail(c, "tls", "cannot start TLS to %s:%d", c->host, c->port);
            return;
        }
        c->state = SD_R_HANDSHAKE;
        c->want_tls = POLLOUT;
        return;
#endif
    }
    c->state = SD_R_READY;
    c->deadline = c->nwait > 0 ? now_us + (long long)c->timeout_ms * 1000 : -1;
}

#ifdef SD_HAVE_OPENSSL
/* A step of the TLS handshake. */
static void sd_rhandshake(sd_redis *c, long long now_us) {
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        c->state = SD_R_READY;
        c->want_tls = 0;
        c->deadline = c->nwait > 0 ? now_us + (long long)c->timeout_ms * 1000 : -1;
        return;
    }
    c->want_tls = sd_tls_wants(c, rc);
    if (c->want_tls == 0) {
        char msg[200];
        sd_tls_error(c, msg, sizeof msg);
        sd_rfail(c, "tls", "TLS to redis %s:%d failed: %s", c->host, c->port, msg);
    }
}
#endif

sd_redis *sd_redis_new(const sd_redis_opts *o, char *err, size_t errlen) {
    sd_redis *c;
    int fail = 0;
    if (o->tls && !sd_redis_tls_available()) {
        snprintf(err, errlen, "this seedance was built without OpenSSL, so rediss:// (TLS) is not available: "
                              "install libssl-dev and build seedance again");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "not enough memory");
        return NULL;
    }
    c->sock = SD_BAD_SOCKET;
    c->deadline = -1;
    c->port = o->port;
    c->tls = o->tls;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    sd_buf_init(&c->out, 0);
    c->host = sd_rdup(o->host, &fail);
    c->user = sd_rdup(o->user, &fail);
    c->password = sd_rdup(o->password, &fail);
    if (fail || c->host == NULL) {
        sd_redis_free(c);
        snprintf(err, errlen, "not enough memory");
        return NULL;
    }
#ifdef SD_HAVE_OPENSSL
    if (c->tls && sd_rtls_setup(c, o->ca_file, err, errlen) != 0) {
        sd_redis_free(c);
        return NULL;
    }
#endif
    return c;
}

void sd_redis_free(sd_redis *c) {
    sd_rwait *w;
    sd_redis_result *r;
    if (c == NULL) return;
    sd_rdisconnect(c);
    for (w = c->wait_head; w != NULL;) {
        sd_rwait *next = w->next;
        free(w);
        w = next;
    }
    for (r = c->res_head; r != NULL;) {
        sd_redis_result *next = r->next;
        sd_redis_result_free(r);
        r = next;
    }
#ifdef SD_HAVE_OPENSSL
    sd_rtls_free(c); /* after the SSL (and its BIO) above */
#endif
    if (c->password != NULL) memset(c->password, 0, strlen(c->password));
    free(c->password);
    free(c->user);
    free(c->host);
    sd_buf_free(&c->out);
    free(c);
}

int sd_redis_command(sd_redis *c, long long id, int argc, const char **argv, const size_t *lens) {
    size_t before = c->out.len;
    if (sd_rformat(&c->out, argc, argv, lens) != 0) return -1;
    if (sd_rwait_add(c, id, 0) != 0) {
        c->out.len = before; /* the command is not queued */
        return -1;
    }
    if (c->state == SD_R_READY && c->deadline < 0) c->deadline = sd_clock_us() + (long long)c->timeout_ms * 1000;
    if (c->state == SD_R_IDLE) sd_rconnect(c, sd_clock_us());
    return 0;
}

int sd_redis_want(const sd_redis *c, sd_socket *s, short *events) {
    if (c->state == SD_R_IDLE || c->sock == SD_BAD_SOCKET) return 0;
    *s = c->sock;
    if (c->state == SD_R_CONNECTING) *events = POLLOUT;
    else if (c->state == SD_R_HANDSHAKE) *events = c->want_tls ? c->want_tls : POLLIN;
    else *events = (short)(POLLIN | (c->out_off < c->out.len ? POLLOUT : 0) | c->want_tls);
    return 1;
}

void sd_redis_io(sd_redis *c, short revents, long long now_us) {
    if (c->state == SD_R_CONNECTING && (revents & (POLLOUT | POLLERR | POLLHUP))) sd_rconnected(c, now_us);
#ifdef SD_HAVE_OPENSSL
    else if (c->state == SD_R_HANDSHAKE && revents != 0) sd_rhandshake(c, now_us);
#endif
    else if (c->state == SD_R_READY && revents != 0) {
        c->want_tls = 0;
        if (sd_rread(c, now_us) == 0 && c->state == SD_R_READY) sd_rwrite(c);
    }
    if (c->state == SD_R_READY && c->out_off < c->out.len && c->want_tls == 0) sd_rwrite(c); /* queued meanwhile */
    if (c->state != SD_R_IDLE && c->deadline >= 0 && now_us >= c->deadline) {
        sd_rfail(c, "timeout", "redis %s:%d did not answer within %ld ms", c->host, c->port, c->timeout_ms);
    }
}

long long sd_redis_deadline(const sd_redis *c) {
    return c->state == SD_R_IDLE ? -1 : c->deadline;
}

sd_redis_result *sd_redis_take(sd_redis *c) {
    sd_redis_result *r = c->res_head;
    if (r == NULL) return NULL;
    c->res_head = r->next;
    if (c->res_head == NULL) c->res_tail = NULL;
    r->next = NULL;
    return r;
}

void sd_redis_result_free(sd_redis_result *r) {
    if (r == NULL) return;
    if (r->reply != NULL) freeReplyObject(r->reply);
    free(r);
}

int sd_redis_has_results(const sd_redis *c) {
    return c->res_head != NULL;
}

size_t sd_redis_pending(const sd_redis *c) {
    return c->nwait;
}

#else /* no hiredis: the Redis journal is not compiled in */

int sd_redis_available(void) {
    return 0;
}

int sd_redis_tls_available(void) {
    return 0;
}

sd_redis *sd_redis_new(const sd_redis_opts *o, char *err, size_t errlen) {
    (void)o;
    snprintf(err, errlen, "this seedance was built without hiredis, so a redis:// journal is not available: "
                          "install libhiredis-dev (Debian; hiredis elsewhere) and build seedance again");
    return NULL;
}

void sd_redis_free(sd_redis *c) {
    (void)c;
}

int sd_redis_command(sd_redis *c, long long id, int argc, const char **argv, const size_t *lens) {
    (void)c, (void)id, (void)argc, (void)argv, (void)lens;
    return -1;
}

int sd_redis_want(const sd_redis *c, sd_socket *s, short *events) {
    (void)c, (void)s, (void)events;
    return 0;
}

void sd_redis_io(sd_redis *c, short revents, long long now_us) {
    (void)c, (void)revents, (void)now_us;
}

long long sd_redis_deadline(const sd_redis *c) {
    (void)c;
    return -1;
}

sd_redis_result *sd_redis_take(sd_redis *c) {
    (void)c;
    return NULL;
}

void sd_redis_result_free(sd_redis_result *r) {
    free(r);
}

int sd_redis_has_results(const sd_redis *c) {
    (void)c;
    return 0;
}

size_t sd_redis_pending(const sd_redis *c) {
    (void)c;
    return 0;
}

#endif
