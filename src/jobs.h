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
    SD_JOB_REPLACE /* move path onto to in one step, replacing what stands there (platform.h: sd_path_replace) */
} sd_job_op;

/* One job; the worker touches it only between taking it and finishing it. */
typedef struct sd_job {
    long long id;         /* the engine's id (never one of a transfer's) */
    sd_job_op op;         /* what it does */
    char *path;           /* HASH, REMOVE, REPLACE: the file (owned) */
    char *to;             /* REPLACE: where it goes (owned) */
    long long max;        /* HASH, READ: most bytes read */
    sd_file file;         /* APPEND, READ: the job's own handle on the file (closed when done) */
    char *data;           /* APPEND: the bytes to write; READ: what was read (owned) */
    size_t len;           /* their length */
    int ok;               /* finished without an error */
    int err;              /* errno when not ok */
    char hash[17];        /* HASH: 16 hex digits */
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

/* Queue a job, starting the worker first if needed; 0, or -1 (the job is not taken). */
int sd_jobs_add(sd_jobs *q, sd_job *j);

/* The oldest finished job (the caller frees it), or NULL. */
sd_job *sd_jobs_take(sd_jobs *q);

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
