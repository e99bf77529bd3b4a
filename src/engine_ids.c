/*
 * engine_ids.c: the engine's id table and its result queue. Every transfer,
 * watch, finished file job and finished Redis command has an id (never reused
 * within an engine) that Lua holds; the table finds the node by id, and the
 * queue holds, in order, the nodes with something for Lua (a result, a
 * watch's event). Bookkeeping only: no IO, no libcurl, no Lua.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include "engine_loop.h"

/* Bucket of an id. */
static size_t sd_bucket(const sd_engine *e, long long id) {
    return (size_t)((unsigned long long)id & (e->nbuckets - 1));
}

/* Double the id table when it gets crowded (silently stays as is without memory). */
static void sd_rehash(sd_engine *e) {
    size_t n = e->nbuckets * 2, i;
    sd_qnode **b = calloc(n, sizeof *b);
    if (b == NULL) return;
    for (i = 0; i < e->nbuckets; i++) {
        sd_qnode *t = e->buckets[i];
        while (t != NULL) {
            sd_qnode *next = t->hnext;
            size_t j = (size_t)((unsigned long long)t->id & (n - 1));
            t->hnext = b[j];
            b[j] = t;
            t = next;
        }
    }
    free(e->buckets);
    e->buckets = b;
    e->nbuckets = n;
}

/* Give a node its id (the next one) and enter it into the id table. */
void sd_engine_track(sd_engine *e, sd_qnode *n, int kind) {
    sd_engine_track_as(e, n, e->next_id++, kind);
}

sd_qnode *sd_engine_find(sd_engine *e, long long id) {
    sd_qnode *n = e->buckets[sd_bucket(e, id)];
    while (n != NULL && n->id != id) n = n->hnext;
    return n;
}

/* Take a node out of the id table (a watch's poll was never in it: nothing happens). */
void sd_untrack(sd_engine *e, sd_qnode *n) {
    sd_qnode **p;
    if (n->id == 0) return;
    p = &e->buckets[sd_bucket(e, n->id)];
    while (*p != NULL && *p != n) p = &(*p)->hnext;
    if (*p == n) {
        *p = n->hnext;
        e->count--;
    }
    n->hnext = NULL;
}

/* Append a result or event to the queue. */
void sd_engine_queue(sd_engine *e, sd_qnode *n) {
    n->queued = 1;
    n->qnext = NULL;
    if (e->qtail != NULL) e->qtail->qnext = n;
    else e->qhead = n;
    e->qtail = n;
    e->nqueued++;
}

/* Take a node out of the queue wherever it stands. */
void sd_unqueue(sd_engine *e, sd_qnode *n) {
    sd_qnode **p = &e->qhead, *prev = NULL;
    if (!n->queued) return;
    while (*p != NULL && *p != n) {
        prev = *p;
        p = &(*p)->qnext;
    }
    if (*p == n) {
        *p = n->qnext;
        if (e->qtail == n) e->qtail = prev;
        e->nqueued--;
    }
    n->queued = 0;
    n->qnext = NULL;
}

sd_qnode *sd_engine_hand(sd_engine *e) {
    sd_qnode *n = e->qhead;
    if (n == NULL) return NULL;
    e->qhead = n->qnext;
    if (e->qhead == NULL) e->qtail = NULL;
    e->nqueued--;
    n->queued = 0;
    n->qnext = NULL;
    return n;
}

sd_qnode *sd_engine_pop(sd_engine *e) {
    sd_qnode *n = sd_engine_hand(e);
    if (n != NULL && n->kind != SD_NODE_WATCH) sd_untrack(e, n);
    return n;
}

/* Enter a node into the id table under the id it has (a job's, taken from next_id when queued). */
void sd_engine_track_as(sd_engine *e, sd_qnode *n, long long id, int kind) {
    size_t j;
    n->id = id;
    n->kind = kind;
    if (e->count >= e->nbuckets * 2) sd_rehash(e);
    j = sd_bucket(e, n->id);
    n->hnext = e->buckets[j];
    e->buckets[j] = n;
    e->count++;
}

long long sd_engine_add_job(sd_engine *e, sd_job *j) {
    j->id = e->next_id;
    if (sd_jobs_add(&e->jobs, j) != 0) {
        sd_job_free(j);
        return -1;
    }
    return e->next_id++;
}

long long sd_engine_output_job(sd_engine *e, sd_job *j, sd_transfer *t) {
    j->owner = t;
    return sd_engine_add_job(e, j);
}

void sd_engine_forget(sd_engine *e, sd_transfer *t) {
    sd_unqueue(e, &t->q);
    sd_untrack(e, &t->q);
}

long long sd_engine_new_id(sd_engine *e) {
    return e->next_id++;
}
