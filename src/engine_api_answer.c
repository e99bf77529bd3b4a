/*
 * engine_api_answer.c: a clean answer read in C, pushed to Lua as plain
 * values (eng:take, engine_api.c): a poll's task fields as task.lua's
 * Task:_set takes them, a submit's task id and status and whether the service
 * replayed it; strings decoded, numbers checked (answer.c read them), the
 * service's clock from its Date. No table is made for a clean answer.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <string.h>

#include "compat.h"
#include "answer_push.h"
#include "engine_lua.h"
#include "header.h"

/* Push the service's clock when it answered (its Date header: unix seconds), or nil. */
static void sd_push_date(lua_State *L, const sd_transfer *t) {
    long long d = sd_transfer_date(t);
    if (d >= 0) sd_pushbig(L, d);
    else lua_pushnil(L);
}

/* Push a clean task answer's fields as Task:_apply reads them (task.lua's
 * Task:_set takes them): true, HTTP status, seconds, the service's clock (its
 * Date, unix seconds; nil: none), then status, progress,
 * estimated_time, created, completed, actual_time, the result's JSON text,
 * video_url (false: set to none), expires_at, last_frame_url (false: none),
 * the error { code, message, type } (15 values); or nothing (0) when the
 * answer is not clean. */
int sd_push_task(lua_State *L, sd_transfer *t, const char *id, size_t id_len) {
    sd_task_answer a;
    if (!sd_transfer_ok(t) || t->status >= 400) return 0;
    if (t->parsed != NULL) a = *t->parsed;
    else sd_answer_task(t->body.data ? t->body.data : "", t->body.len, id, id_len, &a);
    if (!a.clean) return 0;
    luaL_checkstack(L, 16, "task fields");
    lua_pushboolean(L, 1);
    sd_pushbig(L, t->status);
    lua_pushnumber(L, (lua_Number)t->time);
    sd_push_date(L, t);
    sd_answer_push_task(L, &a);
    return 15;
}

/* Whether the answer says Idempotency-Replayed: true (once: a header sent twice joins as "true\ntrue"). */
static int sd_replayed(const sd_transfer *t) {
    const char *p = t->head.data, *end = t->head.data ? t->head.data + t->head.len : NULL;
    sd_header_field f;
    int n = 0, yes = 0;
    while (sd_header_next(&p, end, &f)) {
        if (f.name_len == 20 && sd_strncasecmp(f.name, "Idempotency-Replayed", 20) == 0) {
            n++;
            yes = f.value_len == 4 && memcmp(f.value, "true", 4) == 0;
        }
    }
    return n == 1 && yes;
}

/* Push a clean submit answer: true, HTTP status, seconds, the service's clock (unix seconds, or nil),
 * task id, status (or nil), replayed (7 values); or 0. */
int sd_push_submit(lua_State *L, sd_transfer *t) {
    sd_submit_answer a;
    if (!sd_transfer_ok(t) || t->status >= 400) return 0;
    sd_answer_submit(t->body.data ? t->body.data : "", t->body.len, &a);
    if (!a.clean) return 0;
    luaL_checkstack(L, 8, "submit fields");
    lua_pushboolean(L, 1);
    sd_pushbig(L, t->status);
    lua_pushnumber(L, (lua_Number)t->time);
    sd_push_date(L, t);
    lua_pushlstring(L, a.id.raw, a.id.len);
    if (a.status_set) lua_pushlstring(L, a.status.raw, a.status.len);
    else lua_pushnil(L);
    lua_pushboolean(L, sd_replayed(t));
    return 7;
}
