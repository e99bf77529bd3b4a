/*
 * engine_int.h: what engine.c (the Lua-facing functions) and
 * engine_transfer.c (libcurl, sockets, timers; never Lua) share.
 *
 * Calls go one way: engine.c calls engine_loop.c (the multi handle, the id
 * table, the result queue), which calls engine_transfer.c (one easy handle's
 * options and callbacks), which calls engine_output.c (a download's file).
 * None calls back up.
 *
 * Lifetime: an engine owns every transfer. A transfer lives from add() until
 * Lua pops its result with next(), cancels it, or the engine is closed. Its
 * easy handle goes back to the engine's pool as soon as the transfer
 * finishes, so a finished transfer only holds its result (buffers, strings).
 * libcurl callbacks only touch C fields; they never free a transfer, and no
 * Lua code runs while libcurl is inside a call, so nothing is freed under it.
 */
#ifndef SD_ENGINE_INT_H
#define SD_ENGINE_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <curl/curl.h>

#include "buf.h"
#include "jobs.h"
#include "platform.h"
#include "redis.h"

/* Why a transfer was stopped by the engine rather than by libcurl. */
typedef enum sd_fail {
    SD_FAIL_NONE = 0,  /* no engine-made failure */
    SD_FAIL_TOO_LARGE, /* in-memory body passed max_body */
    SD_FAIL_FILE,      /* output or form file could not be opened or written */
    SD_FAIL_MEMORY,    /* out of memory inside a callback */
    SD_FAIL_RANGE,     /* a 206 answer that does not continue the partial file */
    SD_FAIL_DENIED     /* a connection to an address the request's guard refuses */
} sd_fail;

/* A transfer's settings, read from Lua by engine.c; strings are borrowed. */
typedef struct sd_request {
    const char *method;          /* "GET", "POST", "PUT", "DELETE" or "HEAD" */
    const char *url;             /* target URL */
    struct curl_slist *headers;  /* owned: handed to the transfer */
    int has_auth;                /* an Authorization header is in headers */
    const char *body;            /* request body or NULL */
    size_t body_len;             /* its length */
    const char *form_name;       /* multipart field name, or NULL for no upload */
    const char *form_path;       /* file to upload */
    const char *form_filename;   /* filename sent, or NULL for the path's basename */
    const char *form_type;       /* content type of the part, or NULL */
    const char *output;          /* download file, or NULL for an in-memory body */
    const char *validator_file;  /* where a download's ETag / Last-Modified is kept, or NULL */
    const char *if_range;        /* the validator a resume sends as If-Range and a 206 must carry, or NULL */
    long long resume_from;       /* first byte asked for (Range), 0 = whole */
    long long max_file;          /* cap of a download file's bytes, 0 = none */
    size_t max_body;             /* cap of in-memory bodies, 0 = none */
    long timeout_ms;             /* whole transfer, 0 = none */
    long connect_timeout_ms;     /* connection phase, 0 = libcurl's default */
    long low_speed_limit;        /* bytes/s below which the transfer is stalled */
    long low_speed_time;         /* seconds of stall before aborting */
    const char *ca_file;         /* CA bundle, or NULL */
    const char *proxy;           /* proxy URL, or NULL */
    int insecure;                /* skip TLS verification */
    int follow_redirects;        /* follow up to 5 redirects */
    const char *redirect_protocols; /* schemes a redirect may go to ("http,https" when NULL) */
    int guard_link_local;        /* refuse to connect to link-local addresses (169.254/16, fe80::/10) */
} sd_request;

/* One transfer, running or finished. */
typedef struct sd_transfer {
    long long id;                 /* never reused within an engine */
    struct sd_engine *eng;        /* owner */
    CURL *easy;                   /* while running; NULL once finished */
    struct curl_slist *headers;   /* request headers, owned while running */
    curl_mime *mime;              /* multipart upload, owned while running */
    char *url;                    /* the URL asked for (owned) */
    char *effective_url;          /* the last URL used (owned), once finished */
    char *output;                 /* download path (owned) or NULL */
    char *validator_file;         /* validator file path (owned) or NULL */
    char *if_range;               /* the If-Range validator sent (owned) or NULL */
    sd_file out_file;             /* the open download file (opened on the first 2xx byte), SD_NOFILE when closed */
    long long resume_from;        /* Range start asked for */
    long long max_file;           /* cap of the download file's bytes, 0 = none */
    int guard_link_local;         /* refuse link-local peers */
    int resumed;                  /* the body was appended to existing bytes (206) */
    int paused;                   /* paused by the step's file budget (resumed at the next step) */
    sd_buf body;                  /* in-memory body of the current response */
    sd_buf head;                  /* header lines of the current response */
    long status;                  /* status of the current (at the end, final) response */
    long long bytes;              /* body bytes of the current response */
    long long total;              /* expected body bytes, once finished (0 = unknown) */
    int done;                     /* finished: waiting in the result queue */
    sd_fail fail;                 /* engine-made failure */
    char failmsg[320];            /* its message */
    CURLcode code;                /* libcurl's result */
    double time;                  /* total seconds */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's detailed message */
    struct sd_transfer *hnext;    /* next in the id bucket */
    struct sd_transfer *qnext;    /* next in the result queue */
} sd_transfer;

/* A socket libcurl asked the engine to watch. */
typedef struct sd_sock {
    curl_socket_t fd; /* the socket */
    int what;         /* CURL_POLL_IN, _OUT or _INOUT */
    size_t idx;       /* its slot in socks[] and pfds[] */
} sd_sock;

/* A Redis connection of the engine (redis.c), its socket polled with libcurl's. */
typedef struct sd_rlink {
    long long id;           /* its handle, from the engine's ids */
    sd_redis *conn;         /* the connection (owned) */
    short revents;          /* what the last poll found on its socket */
    int polled;             /* its socket was in the last poll */
    struct sd_rlink *next;  /* the engine's next connection */
} sd_rlink;

/* Engine settings, read from Lua by engine.c. */
typedef struct sd_engine_opts {
    long max_host_connections;  /* per host, 0 = unlimited */
    long max_total_connections; /* in all, 0 = unlimited */
    const char *user_agent;     /* default User-Agent, or NULL */
    long long file_budget;      /* bytes of downloads one step may write to their files, 0 = no cap */
} sd_engine_opts;

/* The engine: one multi handle, its sockets, timer, transfers and results. */
typedef struct sd_engine {
    CURLM *multi;              /* the multi handle */
    sd_sock **socks;           /* watched sockets */
    sd_pollfd *pfds;           /* the same, as sd_poll() (poll, WSAPoll) wants them */
    sd_pollfd *ready;          /* scratch copy of ready sockets in step() */
    size_t nsocks, capsocks;   /* sockets in use, slots allocated */
    long long timer_at;        /* monotonic microseconds when libcurl wants its timeout action, -1 = none */
    sd_transfer **buckets;     /* id -> transfer (running and finished) */
    size_t nbuckets, count;    /* bucket slots (power of two), transfers held */
    sd_transfer *qhead, *qtail; /* finished transfers, in completion order */
    size_t nqueued;            /* their number */
    size_t running;            /* transfers inside the multi handle */
    long long next_id;         /* id of the next transfer */
    CURL **pool;               /* idle easy handles for reuse */
    size_t npool;              /* their number */
    char *user_agent;          /* default User-Agent (owned) or NULL */
    sd_jobs jobs;              /* file work on the worker thread (jobs.c); ids from next_id too */
    sd_rlink *redis;           /* Redis connections (redis.c), polled with libcurl's sockets */
    long long file_budget;     /* bytes of downloads one step may write to their files, 0 = no cap */
    long long step_bytes;      /* bytes written to download files in this step */
    int paused;                /* some download was paused by the file budget: resume it at the next step */
} sd_engine;

/* ---- engine_loop.c: the multi handle, ids, results, the easy-handle pool ---- */

/* Make an engine; NULL (with a message in err) on failure. */
sd_engine *sd_engine_new(const sd_engine_opts *o, char *err, size_t errlen);

/* Abort every transfer, free every result, close the multi handle, free e. */
void sd_engine_free(sd_engine *e);

/* Start a transfer; takes rq->headers in every case. Returns its id, or -1
 * when memory ran out. Failures such as a missing form file become results. */
long long sd_engine_add(sd_engine *e, sd_request *rq);

/* The transfer with this id (running, or finished and not popped), or NULL. */
sd_transfer *sd_engine_find(sd_engine *e, long long id);

/* Abort (if running) and forget a transfer; it yields no result. */
void sd_engine_cancel(sd_engine *e, sd_transfer *t);

/* Run IO for at most timeout_ms (while file jobs are outstanding, at most 1 ms:
 * the worker's results are looked for that often); returns the number of
 * results waiting (transfers and finished jobs). A step writes at most about
 * file_budget bytes of downloads to their files (one more chunk of libcurl's
 * per download): a download that would write more is paused until the next
 * step, so a fast download never turns one step into a long write. */
size_t sd_engine_step(sd_engine *e, int timeout_ms);

/* Milliseconds until the engine wants step() again (0 while a download waits on the file budget),
 * -1 when it has nothing to do. */
long sd_engine_timeout(sd_engine *e);

/* Queue a file job under a new id; the id, or -1 (the job is freed) when the worker cannot start. */
long long sd_engine_add_job(sd_engine *e, sd_job *j);

/* Open a Redis connection under a new id (its first command connects); the id, or -1 with a message. */
long long sd_engine_redis_open(sd_engine *e, const sd_redis_opts *o, char *err, size_t errlen);

/* The connection with this id, or NULL. */
sd_redis *sd_engine_redis_find(sd_engine *e, long long id);

/* Close and free a connection; its commands give no result. Whether the id was found. */
int sd_engine_redis_close(sd_engine *e, long long id);

/* A new id for a command. */
long long sd_engine_new_id(sd_engine *e);

/* The oldest finished Redis command of any connection (the caller frees it), or NULL. */
sd_redis_result *sd_engine_redis_take(sd_engine *e);

/* Remove the oldest result from the queue and the id table (the caller frees it). */
sd_transfer *sd_engine_pop(sd_engine *e);

/* ---- engine_transfer.c: one transfer's easy-handle options and callbacks ---- */

/* A new transfer for rq (no id, no easy handle yet): takes rq->headers in
 * every case, adds the headers the engine sends itself. NULL when memory ran out. */
sd_transfer *sd_transfer_new(sd_request *rq);

/* Set every option of rq on t->easy (a reset handle). 0, or -1 with a failure recorded. */
int sd_transfer_setup(sd_transfer *t, const sd_request *rq);

/* Read how a transfer ended from its easy handle (status, time, sizes, URL)
 * and finish its output file. The easy handle is still attached. */
void sd_transfer_record_end(sd_transfer *t, CURLcode code);

/* Free what only a running transfer needs (form, headers, open file); not the easy handle. */
void sd_transfer_release_request(sd_transfer *t);

/* Free a transfer that is in no list any more. */
void sd_transfer_free(sd_transfer *t);

/* Expected body bytes of a running or finished transfer (0 = unknown). */
long long sd_transfer_total(sd_transfer *t);

/* A coarse class of a failed transfer for retry policy ("connect", "timeout", ...). */
const char *sd_transfer_kind(const sd_transfer *t);

/* Whether a finished transfer succeeded at the HTTP level. */
int sd_transfer_ok(const sd_transfer *t);

/* Write the failure message of a finished, failed transfer into out. */
void sd_transfer_error(const sd_transfer *t, char *out, size_t outlen);

/* Record an engine-made failure (the first one wins). Defined here, on the
 * transfer's own fields, so that engine_output.c, below engine_transfer.c,
 * records a failure without calling back up. */
static inline void sd_transfer_fail(sd_transfer *t, sd_fail f, const char *fmt, ...) {
    va_list ap;
    if (t->fail != SD_FAIL_NONE) return;
    t->fail = f;
    va_start(ap, fmt);
    vsnprintf(t->failmsg, sizeof t->failmsg, fmt, ap);
    va_end(ap);
}

/* ---- engine_output.c: a download's file ---- */

/* Write body bytes of a 2xx answer to the download file, opening it (with its
 * checks) on the first call. 0, or -1 with a failure recorded. */
int sd_output_write(sd_transfer *t, const char *p, size_t len);

/* At the end of a transfer: an empty 2xx answer still makes its file; the file is closed. */
void sd_output_end(sd_transfer *t, CURLcode code);

/* Close the download file if it is open (an aborted transfer). */
void sd_output_close(sd_transfer *t);

#endif
