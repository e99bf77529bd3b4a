/*
 * jobs.h: file work of unbounded size (reading a file to hash it, reading a
 * journal, appending a record and syncing it to disk, removing or replacing a
 * large file, which frees its blocks) done on a worker thread
 * of the engine, never on the thread that calls step(): a host's frame loop
 * only collects what the worker finished (src/jobs.c).
 */
#ifndef SD_JOBS_H
#define SD_JOBS_H

#include <stddef.h>

#include "platform.h"

/* What a job does. */
typedef enum sd_job_op {
    SD_JOB_HASH,   /* read path (at most max bytes, never through a link) and hash it: FNV-1a 64 */
    SD_JOB_APPEND, /* write data at the end of file, then sync it to disk */
    SD_JOB_READ,   /* read file from its start, at most max bytes */
    SD_JOB_REMOVE, /* remove path (a file or a link itself; none there is no error) */
    SD_JOB_REPLACE, /* move path onto to in one step, replacing what stands there (platform.h: sd_path_replace),
                     * then remove path2 if given */
    SD_JOB_OUTPUT  /* open a download's file for its answer (sd_job_output); the engine's own */
} sd_job_op;

/* What an OUTPUT job was doing when it failed. */
#define SD_OUT_VALIDATOR 1 /* removing, or writing, the validator file (path2) */
#define SD_OUT_OPEN 2      /* opening the partial file to append to it */
#define SD_OUT_CHANGED 3   /* the partial file no longer holds exactly `max` bytes */
#define SD_OUT_CREATE 4    /* creating the file anew */

/* One job; the worker touches it only between taking it and finishing it. */
typedef struct sd_job {
    long long id;         /* the engine's id (never one of a transfer's) */
    sd_job_op op;         /* what it does */
    char *path;           /* HASH, REMOVE, REPLACE: the file; OUTPUT: the download's file (owned) */
    char *to;             /* REPLACE: where it goes (owned) */
    char *path2;          /* OUTPUT: where the answer's validator is kept, or NULL; REPLACE: a file removed
                           * once the move is done, or NULL (owned) */
    long long max;        /* HASH, READ: most bytes read; OUTPUT: bytes the file holds to append to (0: create) */
    sd_file file;         /* APPEND, READ: the job's own handle on the file (closed when done) */
    char *data;           /* APPEND: the bytes to write; READ: what was read; OUTPUT: the validator's
                           * line, or NULL (the validator file is removed) (owned) */
    size_t len;           /* their length */
    int ok;               /* finished without an error */
    int err;              /* errno when not ok */
    char hash[17];        /* HASH: 16 hex digits */
    int stage;            /* OUTPUT: what failed (SD_OUT_*) */
    void *owner;          /* OUTPUT: the transfer waiting for it */
    int cancelled;        /* nobody wants the result: freed when finished */
    struct sd_job *next;  /* in its list */
} sd_job;

/* The jobs of an engine and their worker (started with the first job). */
typedef struct sd_jobs {
    int ready;            /* lock and wake initialised */
    sd_mutex lock;        /* guards everything below */
    sd_cond wake;         /* signalled when a job is queued or the worker must stop */
    sd_thread thread;     /* the worker */
    int started;          /* the worker runs */
    int stopping;         /* the worker ends once the queue is empty */
    sd_job *todo, *todo_tail; /* queued, in order (FIFO: appends land in the order they were asked) */
    sd_job *running;      /* the worker's */
    sd_job *done, *done_tail; /* finished, for step() to hand over, in order */
    size_t outstanding;   /* queued + running + finished and not taken */
} sd_jobs;

/* A new job (zeroed, file SD_NOFILE), or NULL when memory ran out. */
sd_job *sd_job_new(sd_job_op op);

/* Free a job and what it owns (its handle closed). */
void sd_job_free(sd_job *j);

/* An OUTPUT job's work (on the worker, or on the caller's thread): with max > 0, open path to
 * append, and it must be a regular file of exactly max bytes; else keep the validator first (data
 * written to path2, created exclusively after removing what stood there; or path2 removed when
 * data is NULL), then create path anew (what stood there removed, O_EXCL). Never through a link.
 * On success j->file is the open file (the caller takes it); else j->stage and j->err say. */
void sd_job_output(sd_job *j);

/* Queue a job, starting the worker first if needed; 0, or -1 (the job is not taken). */
int sd_jobs_add(sd_jobs *q, sd_job *j);

/* The oldest finished job (the caller frees it), or NULL. */
sd_job *sd_jobs_take(sd_jobs *q);

/* The oldest finished job when it is one with an owner (an OUTPUT job: the caller frees it), else NULL. */
sd_job *sd_jobs_take_owned(sd_jobs *q);

/* Drop a job by id: a queued or finished one is freed, a running one's result is
 * discarded when it ends. Whether the id was found. */
int sd_jobs_cancel(sd_jobs *q, long long id);

/* Jobs queued, running or finished and not taken. */
size_t sd_jobs_outstanding(sd_jobs *q);

/* Whether a finished job waits to be taken. */
int sd_jobs_finished(sd_jobs *q);

/* Let the worker finish every queued job (a record asked for still lands), stop
 * it, and free every job. Safe on jobs never used. */
void sd_jobs_free(sd_jobs *q);

#endif
