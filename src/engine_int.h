/*
 * engine_int.h: what the engine's files share.
 *
 * Calls go one way: engine.c and engine_api.c (the Lua-facing functions)
 * call engine_loop.c (the multi handle, the step and its work budget; with
 * engine_ids.c, engine_poll.c and engine_watch.c, the id table and result
 * queue, the sockets polled, the watches: engine_loop.h), which calls engine_transfer.c (one easy
 * handle's options and callbacks), which calls engine_output.c (a download's
 * file); engine_loop.c and engine_transfer.c call engine_sched.c (a client's
 * profile and request window, its tasks' poll schedules: what may start and
 * what an answer means, no IO). None calls back up.
 *
 * Lifetime: an engine owns every transfer and watch. A transfer lives from
 * add() (or api()) until Lua reads its result (next(), take(), result()),
 * cancels it, or the engine is closed; its easy handle goes back to a pool as
 * soon as it finishes. A watch lives until Lua cancels it or the engine
 * closes. A profile (a client's settings) is counted: its Lua box, its
 * engine, and each transfer and watch using it hold it; the last to let go
 * frees it. libcurl callbacks only touch C fields; they never free anything,
 * and no Lua code runs while libcurl is inside a call.
 */
#ifndef SD_ENGINE_INT_H
#define SD_ENGINE_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "answer.h"
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
    SD_FAIL_DENIED,    /* a connection to an address the request's guard refuses */
    SD_FAIL_DEADLINE,  /* an API call whose deadline passed before it could start */
    SD_FAIL_PAUSED     /* an API call whose deadline comes before the client's 429 pause ends */
} sd_fail;

/* How an API transfer's answer is read (engine_api.c's take()). */
typedef enum sd_shape {
    SD_SHAPE_RAW = 0, /* not read: the result table */
    SD_SHAPE_SUBMIT,  /* a submit's task id and status (answer.h) */
    SD_SHAPE_TASK     /* a poll's task fields (answer.h) */
} sd_shape;

/* What stands in the id table and the result queue: a transfer or a watch. */
typedef struct sd_qnode {
    long long id;           /* never reused within an engine */
    int kind;               /* SD_NODE_TRANSFER or SD_NODE_WATCH */
    int queued;             /* in the result queue */
    struct sd_qnode *hnext; /* next in its id bucket */
    struct sd_qnode *qnext; /* next in the result queue */
} sd_qnode;

#define SD_NODE_TRANSFER 1
#define SD_NODE_WATCH 2
#define SD_NODE_JOB 3
#define SD_NODE_REDIS 4

/* A file job the worker finished (jobs.h), as it waits in the result queue. */
typedef struct sd_jobnode {
    sd_qnode q;  /* its id (the job's) and queue links (first member) */
    sd_job *job; /* the job (owned) */
} sd_jobnode;

/* A Redis command that finished (redis.h), as it waits in the result queue. */
typedef struct sd_rnode {
    sd_qnode q;                /* its id (the command's) and queue links (first member) */
    struct sd_redis_result *r; /* the result (owned) */
} sd_rnode;

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

/* Where a transfer stands. */
#define SD_T_STARTING 0 /* set up, waiting in the engine's start queue for a step */
#define SD_T_WAITING 1  /* an API call waiting for room in its client's request window */
#define SD_T_RUNNING 2  /* inside the multi handle */
#define SD_T_DONE 3     /* finished: its result is queued or handed over */

/* One transfer, waiting, running or finished. */
typedef struct sd_transfer {
    sd_qnode q;                   /* id and queue links (first member) */
    struct sd_engine *eng;        /* owner */
    int state;                    /* SD_T_* */
    CURL *easy;                   /* while starting or running (generic), running (API); NULL once finished */
    struct curl_slist *headers;   /* request headers owned while running: a generic list, or an API call's own lines */
    curl_mime *mime;              /* multipart upload, owned while running */
    char *url;                    /* the URL asked for (owned) */
    char *effective_url;          /* the last URL used (owned), once finished */
    char *output;                 /* download path (owned) or NULL */
    char *validator_file;         /* validator file path (owned) or NULL */
    char *if_range;               /* the If-Range validator sent (owned) or NULL */
    sd_file out_file;             /* the open download file (opened on the first 2xx byte), SD_NOFILE when closed */
    long long out_job;            /* the worker's job opening it (the transfer is paused meanwhile), 0: none */
    long long resume_from;        /* Range start asked for */
    long long max_file;           /* cap of the download file's bytes, 0 = none */
    int guard_link_local;         /* refuse link-local peers */
    int resumed;                  /* the body was appended to existing bytes (206) */
    /* an API call (engine_api.c) */
    struct sd_profile *prof;      /* its client's settings (a reference), or NULL for a generic transfer */
    struct sd_watch *watch;       /* the watch this transfer polls for, or NULL */
    int shape;                    /* sd_shape: how its answer is read */
    int post;                     /* a POST of body_text or of the form (else a GET) */
    char *body_text;              /* the JSON body to send (owned until the transfer ends), or NULL */
    size_t body_text_len;         /* its length */
    struct curl_slist *line;      /* one more request line (an Idempotency-Key), chained to the profile's (owned) */
    struct sd_form *form;         /* a multipart upload (owned), or NULL */
    sd_task_answer *parsed;       /* a watch's answer as the engine read it (owned; spans into body), or NULL */
    long timeout_ms;              /* whole transfer, 0 = none */
    long long deadline_us;        /* the call gives up when it has not started by then, -1 = never */
    int paused;                   /* paused by the step's file budget (resumed at the next step) */
    /* what came back */
    sd_buf body;                  /* in-memory body of the current response */
    sd_buf head;                  /* header lines of the current response */
    long status;                  /* status of the current (at the end, final) response */
    long long bytes;              /* body bytes of the current response */
    long long total;              /* expected body bytes, once finished (0 = unknown) */
    sd_fail fail;                 /* engine-made failure */
    char *failmsg;                /* its message (owned), NULL when none or memory ran out */
    double wait_s;                /* SD_FAIL_PAUSED: seconds of the pause still to run */
    CURLcode code;                /* libcurl's result */
    double time;                  /* total seconds */
    char *errbuf;                 /* libcurl's detailed message (CURL_ERROR_SIZE bytes, owned while it has an easy handle) */
    struct sd_transfer *snext;    /* next in the start queue or in a request window's wait queue */
} sd_transfer;

/* A multipart upload of one file (an API call's, owned by it). */
typedef struct sd_form {
    char *name;     /* the field's name */
    char *path;     /* the file */
    char *filename; /* the filename sent, or NULL */
    char *type;     /* the part's content type, or NULL */
} sd_form;

/* Most easy handles a profile keeps set up with its settings. */
#define SD_PROFILE_POOL 64

/* A client's settings, given once (core.profile via eng:profile): every API
 * call of the client is sent with them, through its request window (the
 * governor: a window of concurrent requests that halves on a 429 and grows by
 * one on each success, and a pause every sender waits out after a 429). */
typedef struct sd_profile {
    int refs;                        /* the Lua box, the engine, each transfer and watch using it */
    struct sd_engine *eng;           /* the engine, NULL once it closed */
    struct sd_profile *next, *prev;  /* the engine's list */
    char *base;                      /* the base URL, no trailing slash */
    size_t base_len;                 /* its length */
    char *poll_query;                /* what a poll's path ends with ("?language=en"), or NULL */
    struct curl_slist *get_headers;  /* the lines of every API call (the Authorization line among them) */
    struct curl_slist *json_headers; /* the same, then Content-Type: application/json */
    char *ca_file;                   /* CA bundle, or NULL */
    char *proxy;                     /* proxy URL ("" for none), or NULL for libcurl's environment */
    long timeout_ms;                 /* per request, 0 = none */
    long connect_timeout_ms;         /* connection phase, 0 = libcurl's default */
    size_t max_body;                 /* cap of an answer, 0 = none */
    int guard_link_local;            /* refuse link-local peers */
    /* the request window */
    int governed;                    /* 0: no window, no pause */
    int max_requests;                /* the window's cap */
    double window;                   /* the window now (1 .. max_requests) */
    int active;                      /* API calls inside it */
    long long pause_until_us;        /* no call starts before this (a 429's pause), 0 = none */
    long throttled;                  /* 429s seen */
    sd_transfer *wait_head, *wait_tail; /* calls waiting for room, oldest first */
    size_t nwaiting;                 /* their number */
    long long check_us;              /* when a waiting call may have to be refused (a deadline; 0: now), -1 never */
    /* the poll schedule (seedance.polling's constants and the client's settings) */
    double poll_min, poll_max;       /* seconds (the service's clock) */
    double time_scale;               /* wall seconds per service second */
    double lag_floor, lag_share, slack; /* polling.LAG_FLOOR, LAG_SHARE, ESTIMATE_SLACK */
    int wake_all;                    /* every poll answer wakes Lua (it logs each exchange) */
    CURL *pool[SD_PROFILE_POOL];     /* easy handles set up with these settings */
    size_t npool;                    /* their number */
} sd_profile;

/* What a watch has for Lua. */
#define SD_EV_NONE 0
#define SD_EV_TASK 1     /* a clean answer that changed what its waiter asked about (or every answer: wake_all) */
#define SD_EV_ANSWER 2   /* an answer the engine does not read (an error, an odd body): Lua reads it */
#define SD_EV_DEADLINE 3 /* the wait's deadline came before the next poll */

/* Bytes of a status kept in a watch itself (the service's are shorter); a longer one is allocated. */
#define SD_STATUS_INLINE 20

/* A task being waited for: the engine polls it on its schedule and tells Lua
 * only of a change its waiter asked about, an answer it cannot read, or the
 * deadline; between those, polls that change nothing never wake Lua. Small:
 * a pool's parked tasks (seedance.map) are one of these each. */
typedef struct sd_watch {
    sd_qnode q;                /* id and queue links (first member) */
    sd_profile *prof;          /* the client (a reference) */
    sd_transfer *poll;         /* the poll in flight (or waiting for room), or NULL */
    sd_transfer *event;        /* the answer Lua is to read (SD_EV_TASK, SD_EV_ANSWER), or NULL */
    long long start_us;        /* when the wait began (monotonic) */
    long long deadline_us;     /* when it ends, -1 = never */
    long long next_us;         /* the next poll, when armed and in the heap */
    size_t heap_idx;           /* its place in the engine's watch heap, SD_NO_HEAP when not in it */
    /* the task as the last answers left it (task.lua's Task:_apply; -1: nil) */
    double estimated;          /* estimated_time */
    double created;            /* created (unix seconds): a task met after a restart counts from it */
    double server_offset;      /* the service's clock less ours (its answers' Date), seconds; 0: not known */
    /* polling.observe's state (-1: nil) */
    double elapsed, prev_elapsed;
    char *key;                 /* a parked task's Idempotency-Key (owned), or NULL */
    char *told_long;           /* the status told, when longer than SD_STATUS_INLINE bytes (owned), or NULL */
    int tag;                   /* a parked task's number in its pool (its item) */
    int absorbed;              /* clean answers that changed nothing since Lua last read an event */
    short tries, failures, undecodable; /* its waiter's counts (a poll's tries, failures and odd answers in a row) */
    signed char task_progress; /* the task's progress (0..100, -1: nil) */
    signed char progress, prev_progress, step; /* polling.observe's (-1: nil) */
    signed char told_progress; /* the progress Lua was last told (-1: none) */
    unsigned char event_kind;  /* SD_EV_* */
    unsigned char armed;       /* polls on its own (cleared by an event until Lua re-arms it) */
    unsigned char wake_progress; /* a progress change wakes Lua (its waiter has an on_progress) */
    unsigned char wake_status; /* a status change wakes Lua (else only the end does: the status is kept as told) */
    unsigned char changed;     /* the event's answer changed the status or the progress Lua was told */
    unsigned char flags;       /* a parked task's handle's flags (task.lua's: a slot held, replayed, ...) */
    unsigned char told_len;    /* bytes of the status told */
    unsigned char id_len;      /* bytes of task_id */
    char told_status[SD_STATUS_INLINE]; /* the status Lua was last told (or kept as the task's), when short */
    char task_id[];            /* the task's id (letters, digits, '_', '-'), NUL-terminated */
} sd_watch;

/* The status a watch has told (its bytes, told_len of them). */
static inline const char *sd_told(const sd_watch *w) {
    return w->told_long != NULL ? w->told_long : w->told_status;
}

/* Set the status told (at most SD_STATUS_MAX bytes); -1 when memory ran out (it is then unchanged). */
static inline int sd_told_set(sd_watch *w, const char *s, size_t n) {
    char *longer = NULL;
    if (n > SD_STATUS_MAX) n = SD_STATUS_MAX;
    if (n > SD_STATUS_INLINE && (longer = malloc(n)) == NULL) return -1;
    if (longer != NULL) memcpy(longer, s, n);
    else memmove(w->told_status, s, n);
    free(w->told_long);
    w->told_long = longer;
    w->told_len = (unsigned char)n;
    return 0;
}

/* Whether the status told is the n bytes at s. */
static inline int sd_told_is(const sd_watch *w, const char *s, size_t n) {
    return n == w->told_len && memcmp(sd_told(w), s, n) == 0;
}

#define SD_NO_HEAP ((size_t)-1)

/* How much one step may do (a frame's budget). 0 in a field means no limit. */
typedef struct sd_budget {
    int starts;    /* transfers handed to libcurl (new ones and API calls let through a window) */
    int downloads; /* of those, transfers that are not API calls (downloads: a new file each, their own buffers) */
    int sockets;   /* ready sockets handed to libcurl */
    int answers;   /* finished transfers read from libcurl (answers parsed, watches advanced) */
    long long us;  /* microseconds of engine work, checked after each unit (0 = none) */
} sd_budget;

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

/* The engine: one multi handle, its sockets, timer, transfers, watches and results. */
typedef struct sd_engine {
    CURLM *multi;              /* the multi handle */
    sd_sock **socks;           /* watched sockets */
    sd_pollfd *pfds;           /* the same, as sd_poll() (poll, WSAPoll) wants them */
    sd_pollfd *ready;          /* scratch copy of ready sockets in step() */
    size_t nsocks, capsocks;   /* sockets in use, slots allocated */
    size_t rotor;              /* where the next step starts handing ready sockets over */
    sd_poller *poller;         /* the kernel's set of the same sockets (epoll), or NULL: pfds are polled */
    long long timer_at;        /* monotonic microseconds when libcurl wants its timeout action, -1 = none */
    sd_qnode **buckets;        /* id -> transfer or watch */
    size_t nbuckets, count;    /* bucket slots (power of two), nodes held */
    sd_qnode *qhead, *qtail;   /* results and watch events, in the order they came */
    size_t nqueued;            /* their number */
    sd_transfer *shead, *stail; /* transfers waiting in the start queue */
    size_t nstarting;          /* their number */
    size_t running;            /* transfers inside the multi handle */
    size_t max_running;        /* most transfers handed to libcurl at once (its connections per host), 0 = no cap */
    unsigned long files_worker, files_here; /* downloads' files opened on the worker, and on this thread */
    size_t pending_msgs;       /* finished transfers libcurl holds that a step has not read yet */
    long long next_id;         /* id of the next transfer or watch */
    CURL **pool;               /* idle easy handles for reuse (reset) */
    size_t npool;              /* their number */
    char *user_agent;          /* default User-Agent (owned) or NULL */
    sd_profile *profiles;      /* clients' settings made with this engine */
    sd_watch **heap;           /* armed watches by next poll (a binary heap) */
    size_t nheap, capheap;     /* watches in it, slots allocated */
    size_t nwatches;           /* watches held */
    sd_budget budget;          /* how much one step may do */
    int more;                  /* the last step left work for the next one */
    struct {                   /* what the last step did (eng:stats(), for specs and the bench) */
        int starts, downloads, sockets, answers;
    } last;
    sd_jobs jobs;              /* file work on the worker thread (jobs.c); ids from next_id too */
    sd_rlink *redis;           /* Redis connections (redis.c), polled with libcurl's sockets */
    long long file_budget;     /* bytes of downloads one step may write to their files, 0 = no cap */
    long long step_bytes;      /* bytes written to download files in this step */
    int paused;                /* some download was paused by the file budget: resume it at the next step */
} sd_engine;

/* ---- engine_loop.c (the multi handle, the step), engine_ids.c (ids, results), engine_poll.c (Redis
 *      connections), engine_watch.c (watches) ---- */

/* Make an engine; NULL (with a message in err) on failure. */
sd_engine *sd_engine_new(const sd_engine_opts *o, char *err, size_t errlen);

/* Abort every transfer and watch, free every result, close the multi handle, free e. */
void sd_engine_free(sd_engine *e);

/* Start a transfer; takes rq->headers in every case. Returns its id, or -1
 * when memory ran out. Failures such as a missing form file become results. */
long long sd_engine_add(sd_engine *e, sd_request *rq);

/* Start an API call: t (made by sd_api_new, with no id yet) gets its id and
 * goes through its profile's window. Returns the id. */
long long sd_engine_api(sd_engine *e, sd_transfer *t);

/* Start watching a task: w (with no id yet) gets its id and its first poll is due now. */
long long sd_engine_watch(sd_engine *e, sd_watch *w);

/* Re-arm a watch after its event: its next poll in delay_s seconds (< 0: as its schedule says). */
void sd_engine_rearm(sd_engine *e, sd_watch *w, double delay_s);

/* The transfer or watch with this id, or NULL. */
sd_qnode *sd_engine_find(sd_engine *e, long long id);

/* Abort (if running) and forget a transfer or a watch; it yields no result. */
void sd_engine_cancel(sd_engine *e, sd_qnode *n);

/* Run IO for at most timeout_ms (while file jobs are outstanding, at most 1 ms:
 * the worker's results are looked for that often), within the step's budget;
 * returns the number of results waiting (transfers, watch events, finished jobs).
 * A step writes at most about file_budget bytes of downloads to their files (one
 * more chunk of libcurl's per download): a download that would write more is
 * paused until the next step, so a fast download never turns one step into a
 * long write. */
size_t sd_engine_step(sd_engine *e, int timeout_ms);

/* Milliseconds until the engine wants step() again (0 while a download waits on the file budget),
 * -1 when it has nothing to do. */
long sd_engine_timeout(sd_engine *e);

/* Transfers not finished: starting, waiting for room, running. */
size_t sd_engine_pending(sd_engine *e);

/* Queue a file job under a new id; the id, or -1 (the job is freed) when the worker cannot start. */
long long sd_engine_add_job(sd_engine *e, sd_job *j);

/* Remove the oldest result or event from the queue; a transfer or a job also
 * leaves the id table (the caller frees it), a watch stays. */
sd_qnode *sd_engine_pop(sd_engine *e);

/* Take the oldest result or event off the queue, leaving it in the id table (eng:pop()). */
sd_qnode *sd_engine_hand(sd_engine *e);

/* Forget a finished transfer the caller has read (leaves the id table; the caller frees it). */
void sd_engine_forget(sd_engine *e, sd_transfer *t);

/* ---- engine_sched.c: request windows and poll schedules (no IO) ---- */

/* Monotonic microseconds. */
long long sd_sched_now(void);

/* Drop a profile reference; the last one frees it (and leaves its engine's list). */
void sd_profile_release(sd_profile *p);

/* Whether an API call may start now (room in its window, no pause). */
int sd_window_open(const sd_profile *p, long long now);

/* Why a waiting call cannot wait any more (SD_FAIL_DEADLINE, SD_FAIL_PAUSED), else SD_FAIL_NONE. */
sd_fail sd_window_refuses(const sd_profile *p, const sd_transfer *t, long long now);

/* An API call ended with this HTTP status (0: a transport failure): the window moves. */
void sd_window_done(sd_profile *p, long status);

/* A 429 asked every sender to wait `seconds`. */
void sd_window_pause(sd_profile *p, double seconds, long long now);

/* The next poll's delay in service seconds (polling.delay, read the same way). */
double sd_poll_delay(double elapsed, int progress, double prev_elapsed, int prev_progress, int step,
                     double estimated, double poll_min, double poll_max, double lag_floor, double lag_share,
                     double slack);

/* Fold what a poll saw into a watch's observation (polling.observe) at `now`. */
void sd_watch_observe(sd_watch *w, long long now);

/* Microseconds from now to a watch's next poll, by its schedule. */
long long sd_watch_delay_us(const sd_watch *w);

/* A clean answer a watch's poll got (a): update what the watch knows; 1 when
 * its waiter is to be told (a change it asked about, or every answer). */
int sd_watch_answer(sd_watch *w, const sd_task_answer *a, long long now);

/* The heap of armed watches, by next poll. */
int sd_heap_push(sd_engine *e, sd_watch *w);
void sd_heap_remove(sd_engine *e, sd_watch *w);
sd_watch *sd_heap_top(sd_engine *e);

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

/* ---- engine_transfer.c: one transfer's easy-handle options and callbacks ---- */

/* A new transfer for rq (no id, no easy handle yet): takes rq->headers in
 * every case, adds the headers the engine sends itself. NULL when memory ran out. */
sd_transfer *sd_transfer_new(sd_request *rq);

/* A new API call of profile p (a reference is taken): its URL is the base
 * then path; body (copied) makes it a POST of JSON; `header` is one more line
 * (an Idempotency-Key) or NULL. NULL when memory ran out. */
sd_transfer *sd_api_new(sd_profile *p, const char *path, size_t path_len, const char *body, size_t body_len,
                        const char *header, double timeout_s, long long deadline_us, int shape);

/* Give an API call a multipart upload (copies the strings): 0, or -1 when memory ran out. */
int sd_api_form(sd_transfer *t, const char *name, const char *path, const char *filename, const char *type);

/* Set every option of rq on t->easy (a reset handle). 0, or -1 with a failure recorded. */
int sd_transfer_setup(sd_transfer *t, const sd_request *rq);

/* Set an API call's options on t->easy: a handle set up for its profile
 * already, or (`fresh`) a reset one it sets up. 0, or -1 with a failure recorded. */
int sd_api_setup(sd_transfer *t, int fresh);

/* Whether an API call's easy handle may serve its profile's next call as it is. */
int sd_api_reusable(const sd_transfer *t);

/* The service's clock when it answered (its Date header, read by curl_getdate): unix seconds, or -1. */
long long sd_transfer_date(const sd_transfer *t);

/* Read how a transfer ended from its easy handle (status, time, sizes, URL)
 * and finish its output file. The easy handle is still attached. */
void sd_transfer_record_end(sd_transfer *t, CURLcode code);

/* Free what only a running transfer needs (form, headers, body, open file); not the easy handle. */
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
    t->failmsg = malloc(320);
    if (t->failmsg == NULL) return;
    va_start(ap, fmt);
    vsnprintf(t->failmsg, 320, fmt, ap);
    va_end(ap);
}

/* ---- engine_output.c: a download's file ---- */

/* Write body bytes of a 2xx answer to the download file, opening it (with its
 * checks) on the first call: 0; 1 when the file is being opened on the worker
 * (the transfer pauses: sd_output_opened, then unpause); -1 with a failure recorded. */
int sd_output_write(sd_transfer *t, const char *p, size_t len);

/* What the worker's job opening t's file did: 0 (the file is t's now), or -1 with a failure recorded. */
int sd_output_opened(sd_transfer *t, sd_job *j);

/* Drop the job opening t's file, if one is outstanding. */
void sd_output_forget(sd_transfer *t);

/* Hand an OUTPUT job for transfer t to the worker: its id, or -1 (not taken: j freed). */
long long sd_engine_output_job(struct sd_engine *e, sd_job *j, sd_transfer *t);

/* At the end of a transfer: an empty 2xx answer still makes its file; the file is closed. */
void sd_output_end(sd_transfer *t, CURLcode code);

/* Close the download file if it is open (an aborted transfer). */
void sd_output_close(sd_transfer *t);

#endif
