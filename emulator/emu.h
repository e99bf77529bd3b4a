/*
 * emu.h: shared state of seedance-emulator, a local stand-in for the Seedance
 * 2.0 gateway (../shared/API.md). One process, one global state guarded by
 * one mutex; libmicrohttpd's threads call into routes.c.
 */
#ifndef EMU_H
#define EMU_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

/* Command-line settings. */
typedef struct {
    const char *host;          /* address to bind (loopback by default) */
    int port;                  /* 0 picks a free port */
    double speed;              /* task clock multiplier */
    double url_ttl;            /* seconds a result URL lives after completion */
    double task_seconds;       /* >0 overrides the estimated_time formula */
    double estimate_factor;    /* estimated_time reported = this times the task's real time (default 1) */
    int progress_step;         /* progress reported in steps of this many percent (default 1) */
    double fail_rate, error_rate, drop_rate, garbage_rate; /* fault probabilities */
    unsigned long long fault_seed;
    int latency_ms;            /* delay before every API answer */
    long long video_bytes;     /* >0 serves a synthetic video of this size */
    long long media_rate;      /* >0 caps media bytes per second per download */
    int rpm;                   /* requests per window per key; 0 = unlimited */
    double rpm_window;         /* window length in seconds (default 60) */
    long long balance;         /* starting balance; -1 = unlimited */
    int max_tasks;             /* tasks kept; past it the oldest ended task is evicted */
    int threads;               /* worker threads (thread pool size) */
    const char *keys_file;     /* when set, only these keys are accepted */
    const char *media_dir;     /* fixtures (MP4 per aspect, last-frame PNG) */
    int url_style_string;      /* result.videos[i].url as a string, not an array */
    int submit_object;         /* submit answers data as an object */
    int last_frame_key;        /* 0 result.last_frame_url, 1 videos[i].last_frame_url, 2 images[0].url */
    unsigned fault_routes;     /* bit per EMU_ROUTE_*: endpoints subject to faults (--fault-paths) */
    int bill_at_completion;    /* --bill-at completion: a task is billed when it completes (a failed one never) */
    const char *model_rules;   /* --model-rules FILE.json: models beyond the built-in ones (check.c) */
    int test_clock;            /* --test-clock: POST /_emulator/clock?step=S moves the wall clock */
} emu_options;

/* The fixtures: one MP4 per aspect ratio and per duration (4 to 15 s). */
#define EMU_ASPECTS 6
#define EMU_MIN_SECONDS 4
#define EMU_SECONDS 12

/* A generation task. */
typedef struct {
    char id[32];               /* "task_" + 26 Crockford base32 characters */
    char idem[EMU_IDEM_MAX + 1]; /* Idempotency-Key it was made under ("" if none) */
    char aspect[12];           /* fixture name: "16x9", ... */
    double created;            /* wall clock seconds at submit (what answers report) */
    double started;            /* monotonic seconds at submit (what every duration counts from) */
    double estimated;          /* how long it really takes, service seconds */
    int duration;              /* requested seconds */
    int fails;                 /* ends failed */
    int last_frame;            /* return_last_frame */
    int flag;                  /* --flag-word that fails it (moderation.c), 0 for none */
    char flag_input[24];       /* the input the flagged word was met in */
    int billed;                /* its cost is in used_balance */
    int used;                  /* slot holds a task */
    int older, newer;          /* creation-order neighbours (-1: none); newer links the free list */
} emu_task;

/* API endpoints, for per-endpoint counters and --fault-paths. */
enum { EMU_ROUTE_SUBMIT, EMU_ROUTE_POLL, EMU_ROUTE_UPLOAD, EMU_ROUTE_BALANCE, EMU_ROUTE_OTHER, EMU_ROUTES };

/* Counters served at /_emulator/stats. */
typedef struct {
    long long by_route[EMU_ROUTES];   /* API requests per endpoint (before faults and auth) */
    long long requests, submits, tasks_created, replays, polls, rate_limited;
    long long errors_injected, drops, garbage, uploads, media_requests, range_requests;
    long long media_auth;         /* media requests that carried an Authorization header */
    long long validation_errors, auth_errors, payment_errors, evicted;
    long long moderation_refusals, moderation_failures; /* --refuse-word, --flag-word */
} emu_stats;

/* The process-wide state. */
typedef struct {
    emu_options opt;
    pthread_mutex_t lock;      /* guards everything below */
    emu_task *tasks;           /* opt.max_tasks slots */
    int ntasks;                /* slots in use */
    int oldest, newest;        /* ends of the creation-order list (-1: empty) */
    int free_head;             /* first free slot (-1: full) */
    uint64_t rng;              /* fault PRNG (xorshift64*), seeded by --fault-seed */
    uint64_t id_rng;           /* id PRNG */
    long long used_balance;
    emu_stats stats;
    char base_url[160];        /* http://HOST:PORT, for media URLs */
    char **keys;               /* accepted keys (from --keys), or NULL */
    int nkeys;
    struct emu_rate *rates;    /* per-key windows */
    struct emu_upload *uploads;/* ring of stored uploads */
    int next_upload;
    unsigned char *fixtures[EMU_ASPECTS][EMU_SECONDS]; /* MP4 per aspect and duration */
    size_t fixture_len[EMU_ASPECTS][EMU_SECONDS];
    unsigned char *png;        /* last frame */
    size_t png_len;
} emu_state;

extern emu_state E;

/* store.c */
double emu_now(void);   /* wall clock seconds (with the --test-clock offset): only for times answers report */
double emu_mono(void);  /* monotonic seconds: every duration (task clock, rate windows, pacing, URL lifetimes) */
double emu_wall_step(double seconds); /* --test-clock: move the wall clock by seconds; the offset in all */
double emu_task_wall(const emu_task *t, double mono); /* the wall time a task reports for monotonic time mono */
/* The Date header of an answer: this emulator's wall clock (emu_now, so a --test-clock step moves it with the
 * times the answers report, as an NTP step moves a server's), as an HTTP date; libmicrohttpd's own is not sent. */
void emu_http_date(char *out, size_t cap);
double emu_rand(void);                       /* [0,1), under the lock */
int emu_store_init(void);
void emu_store_free(void);
emu_task *emu_task_find(const char *id);     /* under the lock */
emu_task *emu_task_by_idem(const char *key); /* under the lock */
emu_task *emu_task_new(double mono);          /* under the lock; when full, evicts the oldest ended task */
void emu_task_index_idem(emu_task *t);       /* under the lock, after setting t->idem */
void emu_task_state(const emu_task *t, double mono, const char **status, int *progress, double *done_at);
int emu_rate_check(const char *key, double mono, double *retry_after); /* 1 = allowed */
int emu_key_allowed(const char *key);
long long emu_task_cost(const emu_task *t);
void emu_bill(double mono);                  /* under the lock: with --bill-at completion, bill tasks completed */
void emu_bill_task(emu_task *t, double mono); /* under the lock: bill one task if it has completed and is not yet */
int emu_load_keys(const char *path);

/* media.c */
int emu_media_load(const char *dir);
void emu_media_free(void);
int emu_aspect_index(const char *aspect);
/* The MP4 for an aspect ("16x9", ...; unknown: 16x9) and a duration (clamped to 4..15 s). */
const unsigned char *emu_fixture(const char *aspect, int seconds, size_t *len);

/* Uploaded images kept for serving back (bounded). */
#define EMU_UPLOADS 64
#define EMU_UPLOAD_MAX (20L * 1024 * 1024)
struct emu_upload {
    char name[40];             /* "up_<n>.<ext>" */
    char type[24];             /* content type */
    unsigned char *data;
    size_t len;
};

/* Per-key rate windows (bounded table). */
#define EMU_RATE_KEYS 256
struct emu_rate {
    char key[EMU_KEY_MAX + 1];
    double window_start;
    int count;
};

#endif
