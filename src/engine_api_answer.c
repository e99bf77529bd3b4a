/*
 * engine_api_answer.c: a clean answer read in C, pushed to Lua as plain
 * values (eng:take, engine_api.c): a poll's task fields as task.lua's
 * Task:_set takes them, a submit's task id and status and whether the service
 * replayed it; strings decoded, numbers checked (answer.c read them), the
 * service's clock from its Date. No table is made for a clean answer.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <string.h>

#include "compat.h"
#include "engine_lua.h"
#include "header.h"

/* Push a number field, or nil. */
static void sd_push_num(lua_State *L, const sd_answer_num *f) {
    if (f->set) lua_pushnumber(L, (lua_Number)f->v);
    else lua_pushnil(L);
}

/* Push a number field floored (math.floor's integer), or nil. */
static void sd_push_floor(lua_State *L, const sd_answer_num *f) {
    if (f->set) sd_pushbig(L, (long long)floor(f->v));
    else lua_pushnil(L);
}

/* Push the service's clock when it answered (its Date header: unix seconds), or nil. */
static void sd_push_date(lua_State *L, const sd_transfer *t) {
    long long d = sd_transfer_date(t);
    if (d >= 0) sd_pushbig(L, d);
    else lua_pushnil(L);
}

/* Push a string field decoded (escapes), or nil. */
static void sd_push_str(lua_State *L, const sd_answer_str *f) {
    char small[256];
    char *out;
    size_t max;
    if (!f->set) {
        lua_pushnil(L);
        return;
    }
    if (!(f->s.flags & (SD_JR_ESCAPED | SD_JR_REPAIRED))) {
        lua_pushlstring(L, f->s.raw, f->s.len);
        return;
    }
    max = SD_JR_DECODED_MAX(f->s.len);
    out = max <= sizeof small ? small : (char *)lua_newuserdata(L, max);
    lua_pushlstring(L, out, sd_jr_decode(&f->s, out));
    if (out != small) lua_remove(L, -2);
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
    sd_push_str(L, &a.status);
    if (a.progress.set) {
        double v = a.progress.v < 0 ? 0 : a.progress.v > 100 ? 100 : a.progress.v;
        sd_pushbig(L, (long long)floor(v));
    } else {
        lua_pushnil(L);
    }
    sd_push_num(L, &a.estimated);
    sd_push_floor(L, &a.created);
    sd_push_floor(L, &a.completed);
    sd_push_num(L, &a.actual);
    if (a.result != NULL) {
        lua_pushlstring(L, a.result, a.result_len);
        if (a.video && a.video_url.set) sd_push_str(L, &a.video_url);
        else if (a.video) lua_pushboolean(L, 0);
        else lua_pushnil(L);
        if (a.video) sd_push_floor(L, &a.expires);
        else lua_pushnil(L);
        if (a.last_frame.set) sd_push_str(L, &a.last_frame);
        else lua_pushboolean(L, 0);
    } else {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
    }
    if (a.has_error) {
        lua_createtable(L, 0, 3);
        if (a.error_code.set) {
            lua_pushnumber(L, (lua_Number)a.error_code.v);
            lua_setfield(L, -2, "code");
        }
        if (a.error_message.set) {
            sd_push_str(L, &a.error_message);
            lua_setfield(L, -2, "message");
        }
        if (a.error_type.set) {
            sd_push_str(L, &a.error_type);
            lua_setfield(L, -2, "type");
        }
    } else {
        lua_pushnil(L);
    }
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
