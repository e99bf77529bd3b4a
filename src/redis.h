/*
 * redis.h: connections to Redis driven by the engine's own loop (the shared
 * journal, lua/seedance/journal/redis.lua). As hiredis's adapters hand a
 * connection's socket to the host's event loop, the engine puts each
 * connection's socket into the poll it already runs for libcurl, so step(0)
 * never waits on Redis. hiredis writes commands and reads replies (its reader
 * and formatter, the same in every hiredis); the socket, its connect, TLS
 * (OpenSSL, for rediss://) and AUTH are this file's. No Lua here.
 *
 * Without hiredis (SD_HAVE_HIREDIS undefined) the file compiles to stubs:
 * sd_redis_new says what to install.
 *
 * Lifetime: the engine owns its connections (freed with it). A command lives
 * from sd_redis_command until its result is taken, or the connection is
 * freed. A connection that fails (refused, closed, timed out, a protocol
 * error) fails every command it holds, each with a result, and connects again
 * at the next command.
 */
#ifndef SD_REDIS_H
#define SD_REDIS_H

#include <stddef.h>

#include "platform.h"

/* A connection (opaque). */
typedef struct sd_redis sd_redis;

/* How to reach Redis; strings are copied. */
typedef struct sd_redis_opts {
    const char *host;     /* name or address */
    int port;             /* TCP port */
    const char *user;     /* ACL user for AUTH, or NULL */
    const char *password; /* AUTH password, or NULL */
    int tls;              /* rediss://: TLS, verified */
    const char *ca_file;  /* CA bundle for TLS, or NULL for the system's */
    long timeout_ms;      /* a connect, or a reply, that takes longer fails the connection */
} sd_redis_opts;

/* A reply: hiredis's own object (freed with sd_redis_result_free). */
struct redisReply;

/* A finished command. */
typedef struct sd_redis_result {
    long long id;              /* the command's id */
    int ok;                    /* a reply came (an error reply too: then reply->type is an error) */
    char error[256];           /* when not ok: why the connection failed */
    const char *kind;          /* when not ok: "connect", "closed", "timeout", "tls", "auth", "protocol", "memory" */
    struct redisReply *reply;  /* when ok (owned) */
    struct sd_redis_result *next;
} sd_redis_result;

/* Whether this core was built with hiredis, and with TLS for it. */
int sd_redis_available(void);
int sd_redis_tls_available(void);

/* A new connection (not connected yet: the first command connects), or NULL
 * with a message in err. */
sd_redis *sd_redis_new(const sd_redis_opts *o, char *err, size_t errlen);

/* Close and free, with every command and result it holds (no results). */
void sd_redis_free(sd_redis *c);

/* Queue a command (argv of argc strings); its result comes with this id. 0, or -1 when memory ran out. */
int sd_redis_command(sd_redis *c, long long id, int argc, const char **argv, const size_t *lens);

/* The socket to watch and its poll events: 1, or 0 when the connection has no socket open. */
int sd_redis_want(const sd_redis *c, sd_socket *s, short *events);

/* Do what the socket is ready for (revents from poll), then what is due by now_us. */
void sd_redis_io(sd_redis *c, short revents, long long now_us);

/* Monotonic microseconds at which the connection must be looked at (a connect or reply
 * timing out), or -1. */
long long sd_redis_deadline(const sd_redis *c);

/* The oldest result, or NULL; the caller frees it with sd_redis_result_free. */
sd_redis_result *sd_redis_take(sd_redis *c);
void sd_redis_result_free(sd_redis_result *r);

/* Whether results wait to be taken. */
int sd_redis_has_results(const sd_redis *c);

/* Commands sent or queued without a result yet. */
size_t sd_redis_pending(const sd_redis *c);

#endif
