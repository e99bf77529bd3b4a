/*
 * engine_window.c: a client's request window as the loop runs it: the queue
 * of API calls waiting for room (or for a 429's pause to end), let through
 * while the window is open, refused at once when their deadline passes first
 * (a result, never a raise), and the time a step must wake for them. The
 * window's own decisions (what may start, how it moves) are engine_sched.c's.
 * Part of the engine's loop (engine_loop.h).
 */
#include "engine_loop.h"

/* An API call that will not start: it fails at once (a result, not a raise). */
static void sd_refuse(sd_engine *e, sd_transfer *t, sd_fail why, long long now) {
    sd_profile *p = t->prof;
    if (why == SD_FAIL_PAUSED) {
        t->wait_s = now < p->pause_until_us ? (double)(p->pause_until_us - now) / 1e6 : 0;
        sd_transfer_fail(t, why, "the client is backing off from the service's rate limit for %.3g s more, "
                         "past the deadline", t->wait_s);
    } else {
        sd_transfer_fail(t, why, "the deadline passed before the request could be sent");
    }
    sd_transfer_release_request(t);
    t->code = CURLE_OK;
    sd_finish(e, t, 0, now);
}

/* Refuse a profile's waiting calls that can wait no more (a deadline passed,
 * a pause that ends past it), and note when the next one may have to be. */
static void sd_expire(sd_engine *e, sd_profile *p, long long now) {
    sd_transfer *t = p->wait_head, *next;
    p->check_us = -1;
    for (; t != NULL; t = next) {
        sd_fail why = sd_window_refuses(p, t, now);
        next = t->snext;
        if (why != SD_FAIL_NONE) {
            sd_fifo_remove(&p->wait_head, &p->wait_tail, t);
            p->nwaiting--;
            sd_refuse(e, t, why, now);
        } else if (t->deadline_us >= 0 && (p->check_us < 0 || t->deadline_us < p->check_us)) {
            p->check_us = t->deadline_us;
        }
    }
}

/* Let a profile's waiting calls through while its window has room. */
void sd_admit(sd_engine *e, sd_profile *p, long long now) {
    sd_transfer *t;
    if (p->check_us >= 0 && now >= p->check_us) sd_expire(e, p, now);
    while (p->wait_head != NULL && sd_window_open(p, now)) {
        t = p->wait_head;
        p->wait_head = t->snext;
        if (p->wait_head == NULL) p->wait_tail = NULL;
        p->nwaiting--;
        if (p->governed) p->active++;
        t->state = SD_T_STARTING;
        sd_fifo_push(&e->shead, &e->stail, t);
        e->nstarting++;
    }
}

/* An API call enters its window (or its queue). */
void sd_enter_window(sd_engine *e, sd_transfer *t, long long now) {
    sd_profile *p = t->prof;
    sd_fail why = sd_window_refuses(p, t, now);
    t->eng = e;
    if (why != SD_FAIL_NONE) {
        sd_refuse(e, t, why, now);
        return;
    }
    t->state = SD_T_WAITING;
    sd_fifo_push(&p->wait_head, &p->wait_tail, t);
    p->nwaiting++;
    if (t->deadline_us >= 0 && (p->check_us < 0 || t->deadline_us < p->check_us)) p->check_us = t->deadline_us;
    sd_admit(e, p, now);
}

long long sd_engine_api(sd_engine *e, sd_transfer *t) {
    sd_engine_track(e, &t->q, SD_NODE_TRANSFER);
    sd_enter_window(e, t, sd_now_us());
    return t->q.id;
}

/* The earliest time a waiting call of any profile may change state (pause end, deadline), -1 none. */
long long sd_window_wake(sd_engine *e) {
    long long at = -1;
    sd_profile *p;
    for (p = e->profiles; p != NULL; p = p->next) {
        if (p->nwaiting == 0) continue;
        if (p->governed && p->pause_until_us > 0 && (at < 0 || p->pause_until_us < at)) at = p->pause_until_us;
        if (p->check_us >= 0 && (at < 0 || p->check_us < at)) at = p->check_us;
    }
    return at;
}
