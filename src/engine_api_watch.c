/*
 * engine_api_watch.c: the Lua face of the engine's watches (engine_watch.c
 * polls them; engine_sched.c says when, and what is news).
 *
 *   eng:watch(prof, task_id, deadline, wake_progress, told_status, told_progress,
 *             progress, estimated, created) -> id
 *                               polls a task on its schedule and queues an event
 *                               only when its waiter is to be told
 *   eng:event(id), eng:rearm(id[, delay]), eng:seen(id, ...)
 *                               a watch's event, and the polls going on (the
 *                               event's answer is read by eng:take, engine_api.c)
 *   eng:park(...), eng:parked(id), eng:counts(id, ...)
 *                               a pool's task kept in its watch, not in a Lua table
 *   eng:watch_info(id)          what a watch holds
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <string.h>

#include "compat.h"
#include "engine_lua.h"

/* An optional whole number at argument i (-1 when nil). */
static int sd_opt_int(lua_State *L, int i) {
    double d;
    if (lua_isnoneornil(L, i)) return -1;
    d = (double)luaL_checknumber(L, i);
    return d >= 0 && d <= 1e9 ? (int)d : -1;
}

/* An optional number >= 0 at argument i (-1 when nil). */
static double sd_opt_nonneg(lua_State *L, int i) {
    double d;
    if (lua_isnoneornil(L, i)) return -1;
    d = (double)luaL_checknumber(L, i);
    return d >= 0 && !isinf(d) ? d : -1;
}

/* An optional progress (0..100) at argument i, -1 when nil. */
static int sd_opt_progress(lua_State *L, int i) {
    int p = sd_opt_int(L, i);
    return p > 100 ? 100 : p;
}

/* Set a watch's told status from argument i (nil: none told yet). */
static void sd_told_status(lua_State *L, sd_watch *w, int i) {
    size_t n = 0;
    const char *s = lua_isnoneornil(L, i) ? "" : luaL_checklstring(L, i, &n);
    if (sd_told_set(w, s, n) != 0) luaL_error(L, "not enough memory");
}

/* eng:watch(prof, task_id, deadline, wake, told_status, told_progress, progress, estimated, created) -> id
 * wake: what changes wake Lua besides the end, errors and odd answers: 1 the progress, 2 the
 * status (a sum; true: both). */
int sd_engine_watch_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_profile *p = sd_engine_profile(L, e, 2);
    size_t n, i;
    const char *id = luaL_checklstring(L, 3, &n);
    sd_watch *w;
    long long wid;
    lua_settop(L, 10);
    if (n == 0 || n > 128) luaL_argerror(L, 3, "a task id of 1 to 128 bytes expected");
    for (i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            luaL_argerror(L, 3, "a task id of letters, digits, '_' and '-' expected");
    }
    w = calloc(1, sizeof *w + n + 1);
    if (w == NULL) return luaL_error(L, "not enough memory");
    w->prof = p;
    p->refs++;
    memcpy(w->task_id, id, n);
    w->id_len = (unsigned char)n;
    w->start_us = sd_sched_now();
    w->deadline_us = sd_opt_deadline(L, 4);
    if (lua_isboolean(L, 5)) {
        w->wake_progress = w->wake_status = (unsigned char)lua_toboolean(L, 5);
    } else {
        int wake = (int)luaL_optinteger(L, 5, 2);
        w->wake_progress = (unsigned char)(wake & 1);
        w->wake_status = (unsigned char)((wake & 2) != 0);
    }
    sd_told_status(L, w, 6); /* (the status fits inline: nothing to free if this raised) */
    w->told_progress = (signed char)sd_opt_progress(L, 7);
    w->task_progress = (signed char)sd_opt_progress(L, 8);
    w->estimated = sd_opt_nonneg(L, 9);
    w->created = sd_opt_nonneg(L, 10);
    w->elapsed = w->prev_elapsed = -1;
    w->progress = w->prev_progress = w->step = -1;
    wid = sd_engine_watch(e, w);
    sd_pushbig(L, wid);
    return 1;
}

/* The watch with the id at argument 2; raises for another id. */
static sd_watch *sd_check_watch(lua_State *L, sd_engine *e) {
    sd_qnode *node = sd_engine_find(e, sd_arg_id(L, 2));
    if (node == NULL || node->kind != SD_NODE_WATCH) luaL_argerror(L, 2, "not a watch of this engine");
    return (sd_watch *)node;
}

/* eng:event(id) -> "task" | "answer" | "deadline" | nil, the number of polls the engine
 * read in between that changed nothing (nil for none), and whether the event's answer
 * changed the status or the progress its waiter was told (always true but for "task"):
 * what a watch has for Lua. */
int sd_engine_event_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *node = sd_engine_find(e, sd_arg_id(L, 2));
    sd_watch *w = node != NULL && node->kind == SD_NODE_WATCH ? (sd_watch *)node : NULL;
    static const char *const kinds[] = {NULL, "task", "answer", "deadline"};
    if (w == NULL || w->event_kind == SD_EV_NONE) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, kinds[w->event_kind]);
    if (w->absorbed > 0) lua_pushinteger(L, w->absorbed);
    else lua_pushnil(L);
    lua_pushboolean(L, w->event_kind != SD_EV_TASK || w->changed);
    return 3;
}

/* eng:rearm(id[, delay]): after its event, a watch polls again in `delay` seconds, or (nil) on its schedule. */
int sd_engine_rearm_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_watch *w = sd_check_watch(L, e);
    double d = -1;
    if (!lua_isnoneornil(L, 3)) {
        d = (double)luaL_checknumber(L, 3);
        if (!(d >= 0)) d = 0;
    }
    sd_engine_rearm(e, w, d);
    return 0;
}

/* eng:seen(id, status, progress, estimated, created) -> changed: the task as the Lua layer
 * read an answer the engine did not (an odd body): what its waiter is told now (true when
 * that changed the status or the progress it was told before), and an observation. */
int sd_engine_seen_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_watch *w = sd_check_watch(L, e);
    int progress = sd_opt_progress(L, 4), changed = 0;
    double est = sd_opt_nonneg(L, 5), created = sd_opt_nonneg(L, 6);
    if (!lua_isnoneornil(L, 3)) {
        size_t n;
        const char *s = luaL_checklstring(L, 3, &n);
        changed = !sd_told_is(w, s, n > SD_STATUS_MAX ? SD_STATUS_MAX : n);
        sd_told_status(L, w, 3);
    }
    if (progress >= 0) {
        changed = changed || progress != w->told_progress;
        w->task_progress = w->told_progress = (signed char)progress;
    }
    if (est >= 0) w->estimated = est;
    if (created >= 0) w->created = created;
    sd_watch_observe(w, sd_sched_now());
    lua_pushboolean(L, changed);
    return 1;
}

/* eng:park(id, key, tag, flags): a pool parks its task in its watch (the handle goes):
 * its Idempotency-Key (or nil), the pool's number for it, its handle's flags. */
int sd_engine_park_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_watch *w = sd_check_watch(L, e);
    const char *key = luaL_optstring(L, 3, NULL);
    char *copy = NULL;
    if (key != NULL && (copy = strdup(key)) == NULL) return luaL_error(L, "not enough memory");
    free(w->key);
    w->key = copy;
    w->tag = (int)luaL_optinteger(L, 4, 0);
    w->flags = (unsigned char)luaL_optinteger(L, 5, 0);
    return 0;
}

/* eng:parked(id) -> task id, status, progress, estimated_time, created, key, tag, flags,
 * deadline (core.now() seconds, nil: none): what a parked task's handle held, to make it
 * again; nil for an id that is no watch (any more). */
int sd_engine_parked_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *node = sd_engine_find(e, sd_arg_id(L, 2));
    sd_watch *w = node != NULL && node->kind == SD_NODE_WATCH ? (sd_watch *)node : NULL;
    if (w == NULL) {
        lua_pushnil(L);
        return 1;
    }
    luaL_checkstack(L, 10, "parked");
    lua_pushlstring(L, w->task_id, w->id_len);
    if (w->told_len > 0) lua_pushlstring(L, sd_told(w), w->told_len);
    else lua_pushnil(L);
    if (w->task_progress >= 0) lua_pushinteger(L, w->task_progress);
    else lua_pushnil(L);
    if (w->estimated >= 0) lua_pushnumber(L, (lua_Number)w->estimated);
    else lua_pushnil(L);
    if (w->created >= 0) sd_pushbig(L, (long long)w->created);
    else lua_pushnil(L);
    if (w->key != NULL) lua_pushstring(L, w->key);
    else lua_pushnil(L);
    lua_pushinteger(L, w->tag);
    lua_pushinteger(L, w->flags);
    if (w->deadline_us >= 0) lua_pushnumber(L, (lua_Number)w->deadline_us / 1e6);
    else lua_pushnil(L);
    return 9;
}

/* An optional count at argument i (0 when nil), kept within a short. */
static int sd_opt_count16(lua_State *L, int i) {
    lua_Integer n = lua_isnoneornil(L, i) ? 0 : luaL_checkinteger(L, i);
    return n < 0 ? 0 : n > 32767 ? 32767 : (int)n;
}

/* eng:counts(id[, tries, failures, undecodable]) -> tries, failures, undecodable: a waiter's
 * counts kept with its watch (nil for 0), set when given. */
int sd_engine_counts_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_watch *w = sd_check_watch(L, e);
    if (lua_gettop(L) > 2) {
        w->tries = (short)sd_opt_count16(L, 3);
        w->failures = (short)sd_opt_count16(L, 4);
        w->undecodable = (short)sd_opt_count16(L, 5);
    }
    if (w->tries > 0) lua_pushinteger(L, w->tries);
    else lua_pushnil(L);
    if (w->failures > 0) lua_pushinteger(L, w->failures);
    else lua_pushnil(L);
    if (w->undecodable > 0) lua_pushinteger(L, w->undecodable);
    else lua_pushnil(L);
    return 3;
}

/* eng:watch_info(id) -> { next = seconds until its next poll (nil: none due: an event waits
 * for Lua, or a poll is in flight), elapsed, progress, step, estimated (its schedule's
 * observations, service seconds), absorbed }: for specs and diagnostics. */
int sd_engine_watch_info_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_watch *w = sd_check_watch(L, e);
    lua_createtable(L, 0, 6);
    if (w->heap_idx != SD_NO_HEAP) {
        lua_pushnumber(L, (lua_Number)(w->next_us - sd_sched_now()) / 1e6);
        lua_setfield(L, -2, "next");
    }
    if (w->elapsed >= 0) {
        lua_pushnumber(L, (lua_Number)w->elapsed);
        lua_setfield(L, -2, "elapsed");
    }
    if (w->progress >= 0) {
        lua_pushinteger(L, w->progress);
        lua_setfield(L, -2, "progress");
    }
    if (w->step >= 0) {
        lua_pushinteger(L, w->step);
        lua_setfield(L, -2, "step");
    }
    if (w->estimated >= 0) {
        lua_pushnumber(L, (lua_Number)w->estimated);
        lua_setfield(L, -2, "estimated");
    }
    lua_pushinteger(L, w->absorbed);
    lua_setfield(L, -2, "absorbed");
    return 1;
}
