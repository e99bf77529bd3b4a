/*
 * jobs.c: the engine's file worker. A host calls step(0) from its frame loop;
 * file work whose size has no bound (hashing a 20 MB image, reading a long
 * journal, an fsync that waits on a busy disk, removing a large file or
 * renaming over one, which frees its blocks) would stall that frame, so it
 * runs here, on one worker thread per engine, and step() only hands over
 * what the worker finished. One worker, in order: the records of a journal
 * land in the order they were asked for.
 *
 * Threads: the worker touches a job only between taking it from `todo` and
 * putting it on `done`, both under the lock, and never calls Lua. The Lua
 * thread makes jobs, takes finished ones and frees them. Closing the engine
 * lets the worker finish every queued job (a journal record asked for is
 * written) before it stops.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"

/* Bytes read per call while hashing or reading. */
#define SD_JOB_CHUNK (64 * 1024)

sd_job *sd_job_new(sd_job_op op) {
    sd_job *j = calloc(1, sizeof *j);
    if (j == NULL) return NULL;
    j->op = op;
    j->file = SD_NOFILE;
    return j;
}

void sd_job_free(sd_job *j) {
    if (j == NULL) return;
    sd_file_close(j->file);
    free(j->path);
    free(j->to);
    free(j->data);
    free(j);
}

/* Hash at most j->max bytes of the regular file at j->path (FNV-1a 64, as core.hash). */
static void sd_job_hash(sd_job *j) {
    unsigned long long h = 14695981039346656037ULL;
    unsigned char *buf = malloc(SD_JOB_CHUNK);
    long long left = j->max;
    sd_stat st;
    sd_file f;
    if (buf == NULL) {
        j->err = ENOMEM;
        return;
    }
    f = sd_file_open(j->path, SD_READ);
    if (f == SD_NOFILE || sd_file_info(f, &st) != 0 || st.type != SD_TYPE_FILE) {
        j->err = f == SD_NOFILE ? errno : (st.type != SD_TYPE_FILE ? EISDIR : errno);
        sd_file_close(f);
        free(buf);
        return;
    }
    while (left > 0) {
        size_t want = left < SD_JOB_CHUNK ? (size_t)left : SD_JOB_CHUNK, got = 0, i;
        if (sd_file_read(f, buf, want, &got) != 0) {
            j->err = errno;
            sd_file_close(f);
            free(buf);
            return;
        }
        if (got == 0) break;
        for (i = 0; i < got; i++) {
            h ^= buf[i];
            h *= 1099511628211ULL;
        }
        left -= (long long)got;
    }
    sd_file_close(f);
    free(buf);
    snprintf(j->hash, sizeof j->hash, "%016llx", h);
    j->ok = 1;
}

/* Read at most j->max bytes of j->file, from its start, into j->data. */
static void sd_job_read(sd_job *j) {
    size_t cap = 0;
    for (;;) {
        size_t got = 0, want;
        if ((long long)j->len >= j->max) break;
        if (cap - j->len < SD_JOB_CHUNK) {
            char *bigger;
            cap = cap ? cap * 2 : SD_JOB_CHUNK;
            bigger = realloc(j->data, cap);
            if (bigger == NULL) {
                j->err = ENOMEM;
                return;
            }
            j->data = bigger;
        }
        want = cap - j->len;
        if ((long long)want > j->max - (long long)j->len) want = (size_t)(j->max - (long long)j->len);
        if (sd_file_read_at(j->file, j->data + j->len, want, (long long)j->len, &got) != 0) {
            j->err = errno;
            return;
        }
        if (got == 0) break;
        j->len += got;
    }
    j->ok = 1;
}

/* Do one job (on the worker thread). */
static void sd_job_run(sd_job *j) {
    switch (j->op) {
    case SD_JOB_HASH:
        sd_job_hash(j);
        break;
    case SD_JOB_APPEND:
        if (sd_file_write(j->file, j->data, j->len) != 0 || sd_file_sync(j->file) != 0) j->err = errno;
        else j->ok = 1;
        break;
    case SD_JOB_READ:
        sd_job_read(j);
        break;
    case SD_JOB_REMOVE: /* freeing a large file's blocks takes as long as its size: never on a frame */
        if (sd_path_remove(j->path) != 0 && errno != ENOENT) j->err = errno;
        else j->ok = 1;
        break;
    case SD_JOB_REPLACE: /* the same when what it replaces is large */
        if (sd_path_replace(j->path, j->to) != 0) j->err = errno;
        else j->ok = 1;
        break;
    }
    if (j->file != SD_NOFILE && sd_file_close(j->file) != 0 && j->ok && j->op == SD_JOB_APPEND) {
        j->ok = 0; /* a write that failed late */
        j->err = errno;
    }
    j->file = SD_NOFILE;
}

/* The worker: jobs in order until told to stop with nothing queued. */
static void sd_jobs_worker(void *p) {
    sd_jobs *q = p;
    sd_mutex_lock(&q->lock);
    for (;;) {
        sd_job *j;
        while (q->todo == NULL && !q->stopping) sd_cond_wait(&q->wake, &q->lock);
        if (q->todo == NULL) break;
        j = q->todo;
        q->todo = j->next;
        if (q->todo == NULL) q->todo_tail = NULL;
        j->next = NULL;
        q->running = j;
        sd_mutex_unlock(&q->lock);
        sd_job_run(j);
        sd_mutex_lock(&q->lock);
        q->running = NULL;
        if (j->cancelled) {
            q->outstanding--;
            sd_job_free(j);
        } else {
            if (q->done_tail != NULL) q->done_tail->next = j;
            else q->done = j;
            q->done_tail = j;
        }
    }
    sd_mutex_unlock(&q->lock);
}

int sd_jobs_add(sd_jobs *q, sd_job *j) {
    if (!q->ready) {
        if (sd_mutex_init(&q->lock) != 0) return -1;
        if (sd_cond_init(&q->wake) != 0) {
            sd_mutex_destroy(&q->lock);
            return -1;
        }
        q->ready = 1;
    }
    sd_mutex_lock(&q->lock);
    if (!q->started) {
        if (sd_thread_start(&q->thread, sd_jobs_worker, q) != 0) {
            sd_mutex_unlock(&q->lock);
            return -1;
        }
        q->started = 1;
    }
    j->next = NULL;
    if (q->todo_tail != NULL) q->todo_tail->next = j;
    else q->todo = j;
    q->todo_tail = j;
    q->outstanding++;
    sd_cond_signal(&q->wake);
    sd_mutex_unlock(&q->lock);
    return 0;
}

sd_job *sd_jobs_take(sd_jobs *q) {
    sd_job *j;
    if (!q->ready) return NULL;
    sd_mutex_lock(&q->lock);
    j = q->done;
    if (j != NULL) {
        q->done = j->next;
        if (q->done == NULL) q->done_tail = NULL;
        j->next = NULL;
        q->outstanding--;
    }
    sd_mutex_unlock(&q->lock);
    return j;
}

/* Remove the job with id from the list at *head (tail kept); the job, or NULL. */
static sd_job *sd_unlink(sd_job **head, sd_job **tail, long long id) {
    sd_job *prev = NULL, *j = *head;
    while (j != NULL && j->id != id) {
        prev = j;
        j = j->next;
    }
    if (j == NULL) return NULL;
    if (prev != NULL) prev->next = j->next;
    else *head = j->next;
    if (*tail == j) *tail = prev;
    j->next = NULL;
    return j;
}

int sd_jobs_cancel(sd_jobs *q, long long id) {
    sd_job *j;
    int found = 0;
    if (!q->ready) return 0;
    sd_mutex_lock(&q->lock);
    j = sd_unlink(&q->todo, &q->todo_tail, id);
    if (j == NULL) j = sd_unlink(&q->done, &q->done_tail, id);
    if (j != NULL) {
        q->outstanding--;
        found = 1;
    } else if (q->running != NULL && q->running->id == id) {
        q->running->cancelled = 1;
        found = 1;
    }
    sd_mutex_unlock(&q->lock);
    sd_job_free(j);
    return found;
}

size_t sd_jobs_outstanding(sd_jobs *q) {
    size_t n;
    if (!q->ready) return 0;
    sd_mutex_lock(&q->lock);
    n = q->outstanding;
    sd_mutex_unlock(&q->lock);
    return n;
}

int sd_jobs_finished(sd_jobs *q) {
    int yes;
    if (!q->ready) return 0;
    sd_mutex_lock(&q->lock);
    yes = q->done != NULL;
    sd_mutex_unlock(&q->lock);
    return yes;
}

void sd_jobs_free(sd_jobs *q) {
    sd_job *j;
    if (!q->ready) return;
    sd_mutex_lock(&q->lock);
    q->stopping = 1;
    sd_cond_signal(&q->wake);
    sd_mutex_unlock(&q->lock);
    if (q->started) sd_thread_join(q->thread);
    q->started = 0;
    while ((j = q->done) != NULL) {
        q->done = j->next;
        sd_job_free(j);
    }
    while ((j = q->todo) != NULL) { /* none when the worker ran; a worker that never started leaves them */
        q->todo = j->next;
        sd_job_free(j);
    }
    q->done_tail = q->todo_tail = NULL;
    q->outstanding = 0;
    sd_cond_destroy(&q->wake);
    sd_mutex_destroy(&q->lock);
    q->ready = 0;
}
