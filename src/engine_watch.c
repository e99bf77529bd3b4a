/*
 * engine_watch.c: the watches. A watch polls one task on its own schedule
 * (engine_sched.c says when, and what in an answer is news): it sits in the
 * engine's heap until its poll is due, fires a GET of the task into its
 * client's window, reads the answer, and wakes Lua (an event in the result
 * queue) only when something its waiter asked about changed, or its deadline
 * came; otherwise it schedules its next poll. No Lua here.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "engine_loop.h"

/* A watch has something for Lua (t: the answer, or NULL for its deadline). */
static void sd_watch_event(sd_engine *e, sd_watch *w, int kind, sd_transfer *t) {
    w->event = t;
    w->event_kind = kind;
    w->armed = 0;
    if (!w->q.queued) sd_engine_queue(e, &w->q);
}

/* Put an armed watch in the heap for its next poll, at its deadline at the latest. */
static void sd_watch_schedule(sd_engine *e, sd_watch *w, long long next) {
    if (w->deadline_us >= 0 && next >= w->deadline_us) next = w->deadline_us;
    w->next_us = next;
    w->armed = 1;
    if (sd_heap_push(e, w) != 0) sd_watch_event(e, w, SD_EV_DEADLINE, NULL); /* no memory: end the wait */
}

/* The poll of a watch ended. */
void sd_watch_done(sd_engine *e, sd_transfer *t, long long now) {
    sd_watch *w = t->watch;
    sd_task_answer a;
    w->poll = NULL;
    t->watch = NULL;
    if (!sd_transfer_ok(t) || t->status >= 400) {
        sd_watch_event(e, w, SD_EV_ANSWER, t);
        return;
    }
    sd_answer_task(t->body.data ? t->body.data : "", t->body.len, w->task_id, w->id_len, &a);
    if (a.clean) {
        long long date = sd_transfer_date(t);
        if (date >= 0) w->server_offset = (double)date - (double)now / 1e6;
    }
    if (!a.clean) {
        sd_watch_event(e, w, SD_EV_ANSWER, t);
    } else if (sd_watch_answer(w, &a, now)) {
        /* kept as read, for Lua to take without reading it again */
        if ((t->parsed = malloc(sizeof *t->parsed)) != NULL) *t->parsed = a;
        sd_watch_event(e, w, SD_EV_TASK, t);
    } else {
        /* nothing its waiter asked about changed: Lua is not woken */
        w->absorbed++;
        sd_transfer_free(t);
        sd_watch_schedule(e, w, now + sd_watch_delay_us(w));
    }
}

/* A watch's poll is due: its deadline, or a GET of the task. */
void sd_watch_fire(sd_engine *e, sd_watch *w, long long now) {
    sd_profile *p = w->prof;
    char path[32 + 128 + 64];
    size_t n = 0, q = p->poll_query ? strlen(p->poll_query) : 0;
    sd_transfer *t;
    sd_heap_remove(e, w);
    if (w->deadline_us >= 0 && now >= w->deadline_us) {
        sd_watch_event(e, w, SD_EV_DEADLINE, NULL);
        return;
    }
    if (w->id_len > 128 || q > 63) {
        sd_watch_event(e, w, SD_EV_DEADLINE, NULL); /* cannot happen: ids and languages are checked in Lua */
        return;
    }
    memcpy(path, "/v1/tasks/", 10);
    n = 10;
    memcpy(path + n, w->task_id, w->id_len);
    n += w->id_len;
    if (q > 0) memcpy(path + n, p->poll_query, q);
    n += q;
    t = sd_api_new(p, path, n, NULL, 0, NULL, -1, w->deadline_us, SD_SHAPE_TASK);
    if (t == NULL) { /* no memory now: try again in a second */
        sd_watch_schedule(e, w, now + 1000000);
        return;
    }
    t->watch = w;
    w->poll = t;
    sd_enter_window(e, t, now);
}

long long sd_engine_watch(sd_engine *e, sd_watch *w) {
    sd_engine_track(e, &w->q, SD_NODE_WATCH);
    e->nwatches++;
    w->heap_idx = SD_NO_HEAP;
    sd_watch_schedule(e, w, sd_now_us());
    return w->q.id;
}

void sd_engine_rearm(sd_engine *e, sd_watch *w, double delay_s) {
    long long now = sd_now_us(), d;
    if (w->armed || w->poll != NULL) return;
    if (w->event != NULL) {
        sd_transfer_free(w->event);
        w->event = NULL;
    }
    w->event_kind = SD_EV_NONE;
    sd_unqueue(e, &w->q);
    if (delay_s >= 0) d = delay_s > 1e9 ? (long long)1e15 : (long long)(delay_s * 1e6);
    else d = sd_watch_delay_us(w);
    sd_watch_schedule(e, w, now + d);
}

/* Free a watch (out of every list already but the id table). */
void sd_watch_free(sd_engine *e, sd_watch *w) {
    sd_heap_remove(e, w);
    if (w->poll != NULL) {
        sd_transfer *t = w->poll;
        w->poll = NULL;
        t->watch = NULL;
        sd_engine_cancel(e, &t->q);
    }
    if (w->event != NULL) sd_transfer_free(w->event);
    sd_profile_release(w->prof);
    e->nwatches--;
    free(w->key);
    free(w->told_long);
    free(w);
}
