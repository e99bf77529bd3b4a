/*
 * engine_sched.c: a client's profile and request window, and the poll
 * schedule of the tasks it waits for. Decisions only: what may start, what a
 * poll's answer means, when the next poll is due. No IO, no Lua; calls none
 * of the engine's other files.
 *
 * The window is seedance.governor's, moved here so that calls the engine
 * makes on its own (polls) go through it too: at most floor(window) calls at
 * once, the window halving on a 429 and growing by one on each success (up to
 * max_requests), and a pause after a 429 that every call of the client waits
 * out. The schedule is seedance.polling's: sd_poll_delay is polling.delay and
 * sd_watch_observe polling.observe, with its constants handed in by the Lua
 * layer (spec/unit/polling_spec.lua checks that both give the same answers).
 */
#include <math.h>
#include <string.h>

#include "engine_int.h"

long long sd_sched_now(void) {
    return sd_clock_us();
}

void sd_profile_release(sd_profile *p) {
    size_t i;
    if (p == NULL || --p->refs > 0) return;
    if (p->eng != NULL) { /* leave the engine's list */
        if (p->prev != NULL) p->prev->next = p->next;
        else p->eng->profiles = p->next;
        if (p->next != NULL) p->next->prev = p->prev;
    }
    for (i = 0; i < p->npool; i++) curl_easy_cleanup(p->pool[i]);
    curl_slist_free_all(p->get_headers);
    curl_slist_free_all(p->json_headers);
    free(p->base);
    free(p->poll_query);
    free(p->ca_file);
    free(p->proxy);
    free(p);
}

int sd_window_open(const sd_profile *p, long long now) {
    if (!p->governed) return 1;
    if (now < p->pause_until_us) return 0;
    return p->active < (int)floor(p->window);
}

sd_fail sd_window_refuses(const sd_profile *p, const sd_transfer *t, long long now) {
    if (t->deadline_us < 0) return SD_FAIL_NONE;
    /* a pause that ends past the deadline: nothing to wait for (governor.lua's before_request) */
    if (p->governed && now < p->pause_until_us && t->deadline_us < p->pause_until_us) return SD_FAIL_PAUSED;
    if (now < t->deadline_us) return SD_FAIL_NONE;
    /* the deadline came while the window was full, or before the call could start */
    return sd_window_open(p, now) ? SD_FAIL_DEADLINE : SD_FAIL_PAUSED;
}

void sd_window_done(sd_profile *p, long status) {
    if (!p->governed) return;
    p->active--;
    if (status == 429) {
        p->throttled++;
        p->window = p->window / 2 < 1 ? 1 : p->window / 2;
    } else if (status > 0 && status < 400) {
        p->window = p->window + 1 > p->max_requests ? p->max_requests : p->window + 1;
    }
}

void sd_window_pause(sd_profile *p, double seconds, long long now) {
    long long until;
    if (!p->governed || !(seconds > 0)) return;
    until = now + (seconds > 1e9 ? (long long)1e15 : (long long)(seconds * 1e6));
    if (until > p->pause_until_us) {
        p->pause_until_us = until;
        if (p->nwaiting > 0) p->check_us = 0; /* a waiting call whose deadline comes first gives up now */
    }
}

/* ---- the poll schedule ---------------------------------------------------- */

double sd_poll_delay(double t, int p, double pt, int pp, int step, double estimated, double poll_min,
                     double poll_max, double lag_floor, double lag_share, double slack) {
    double delay = lag_share * t, earliest;
    if (delay < lag_floor) delay = lag_floor;
    earliest = estimated >= 0 ? estimated / slack : 0;
    /* progress seen as p rounded down to its step: the true gain since the last poll is
     * below p - pp + step; only from a poll that already saw progress (polling.lua) */
    if (p >= 0 && pp > 0 && step > 0 && pt >= 0 && t > pt && p >= pp) {
        double rate = (double)(p - pp + step) / (t - pt);
        double left = 100.0 - p - step;
        if (left > 0 && t + left / rate > earliest) earliest = t + left / rate;
    }
    if (earliest - t > delay) delay = earliest - t;
    if (delay < poll_min) delay = poll_min;
    if (delay > poll_max) delay = poll_max;
    return delay;
}

/* Service seconds the task has run, as Task:_poll_delay counts them: since
 * the wait began, or since `created` for a task met after a restart (when
 * that says much more than the wait has seen: `created` is whole seconds). */
static double sd_watch_elapsed(const sd_watch *w, long long now) {
    double waited = (double)(now - w->start_us) / 1e6;
    double scale = w->prof->time_scale;
    if (w->created >= 0) {
        /* the task's age on the service's clock (its answers' Date), else on this machine's */
        double server_now = w->server_offset != 0 ? (double)now / 1e6 + w->server_offset : (double)sd_wall_s();
        double since = server_now - w->created;
        if (since - waited > 5) return since / scale;
    }
    return waited / scale;
}

void sd_watch_observe(sd_watch *w, long long now) {
    double elapsed = sd_watch_elapsed(w, now);
    int progress = w->task_progress;
    if (w->progress >= 0 && progress >= 0 && progress > w->progress) {
        int d = progress - w->progress;
        if (w->step < 0 || d < w->step) w->step = (signed char)d;
    }
    w->prev_elapsed = w->elapsed;
    w->prev_progress = w->progress;
    w->elapsed = elapsed;
    w->progress = (signed char)progress;
}

long long sd_watch_delay_us(const sd_watch *w) {
    const sd_profile *p = w->prof;
    double d = sd_poll_delay(w->elapsed, w->progress, w->prev_elapsed, w->prev_progress, w->step, w->estimated,
                             p->poll_min, p->poll_max, p->lag_floor, p->lag_share, p->slack);
    d *= p->time_scale * 1e6;
    return d > 1e15 ? (long long)1e15 : (long long)d;
}

/* Whether a task status ends the task. */
static int sd_terminal(const char *s, size_t n) {
    return (n == 9 && memcmp(s, "completed", 9) == 0) || (n == 6 && memcmp(s, "failed", 6) == 0) ||
           (n == 9 && memcmp(s, "cancelled", 9) == 0);
}

int sd_watch_answer(sd_watch *w, const sd_task_answer *a, long long now) {
    int tell = w->prof->wake_all, progress_changed;
    const char *st = sd_told(w);
    size_t stn = w->told_len;
    /* Task:_apply's reading */
    if (a->status.set) {
        st = a->status.s.raw;
        stn = a->status.s.len;
    }
    if (a->progress.set) {
        double p = floor(a->progress.v < 0 ? 0 : a->progress.v > 100 ? 100 : a->progress.v);
        w->task_progress = (signed char)p;
    }
    if (a->estimated.set) w->estimated = a->estimated.v;
    if (a->created.set) w->created = floor(a->created.v);
    if (stn == 9 && memcmp(st, "completed", 9) == 0) w->task_progress = 100;
    sd_watch_observe(w, now);
    /* what its waiter asked about */
    w->changed = !sd_told_is(w, st, stn);
    if (w->changed && w->wake_status) tell = 1;
    progress_changed = w->task_progress != w->told_progress;
    if (progress_changed) {
        w->changed = 1;
        if (w->wake_progress) tell = 1;
    }
    if (sd_terminal(st, stn)) tell = 1;
    /* told now, or (a waiter that asked only for the end) kept as the task's own */
    if ((tell || w->changed) && !sd_told_is(w, st, stn) && sd_told_set(w, st, stn) != 0) tell = 1;
    if (tell) w->told_progress = w->task_progress;
    return tell;
}

/* ---- the heap of armed watches, by next poll ------------------------------------ */

static void sd_heap_set(sd_engine *e, size_t i, sd_watch *w) {
    e->heap[i] = w;
    w->heap_idx = i;
}

static void sd_heap_up(sd_engine *e, size_t i) {
    sd_watch *w = e->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (e->heap[parent]->next_us <= w->next_us) break;
        sd_heap_set(e, i, e->heap[parent]);
        i = parent;
    }
    sd_heap_set(e, i, w);
}

static void sd_heap_down(sd_engine *e, size_t i) {
    sd_watch *w = e->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        long long best = w->next_us;
        if (l < e->nheap && e->heap[l]->next_us < best) {
            m = l;
            best = e->heap[l]->next_us;
        }
        if (r < e->nheap && e->heap[r]->next_us < best) m = r;
        if (m == i) break;
        sd_heap_set(e, i, e->heap[m]);
        i = m;
    }
    sd_heap_set(e, i, w);
}

int sd_heap_push(sd_engine *e, sd_watch *w) {
    if (e->nheap == e->capheap) {
        size_t cap = e->capheap ? e->capheap * 2 : 64;
        sd_watch **h = realloc(e->heap, cap * sizeof *h);
        if (h == NULL) return -1;
        e->heap = h;
        e->capheap = cap;
    }
    e->heap[e->nheap] = w;
    w->heap_idx = e->nheap++;
    sd_heap_up(e, w->heap_idx);
    return 0;
}

void sd_heap_remove(sd_engine *e, sd_watch *w) {
    size_t i = w->heap_idx;
    if (i == SD_NO_HEAP) return;
    w->heap_idx = SD_NO_HEAP;
    if (--e->nheap == i) return;
    sd_heap_set(e, i, e->heap[e->nheap]);
    sd_heap_down(e, i);
    sd_heap_up(e, e->heap[i]->heap_idx);
}

sd_watch *sd_heap_top(sd_engine *e) {
    return e->nheap > 0 ? e->heap[0] : NULL;
}
