/*
 * answer_push.c: a clean task answer's fields (answer.c read them) pushed to Lua
 * as plain values: strings decoded, numbers floored where the task keeps
 * whole seconds. The engine pushes them for eng:take and a watch's event
 * (engine_api_answer.c), and fuzz/fuzz_answer.c checks the very same values
 * against the Lua layer's reading of the answer.
 */
#include <math.h>

#include "answer_push.h"
#include "compat.h"

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

int sd_answer_push_task(lua_State *L, const sd_task_answer *a) {
    luaL_checkstack(L, 12, "task fields");
    sd_push_str(L, &a->status);
    if (a->progress.set) {
        double v = a->progress.v < 0 ? 0 : a->progress.v > 100 ? 100 : a->progress.v;
        sd_pushbig(L, (long long)floor(v));
    } else {
        lua_pushnil(L);
    }
    sd_push_num(L, &a->estimated);
    sd_push_floor(L, &a->created);
    sd_push_floor(L, &a->completed);
    sd_push_num(L, &a->actual);
    if (a->result != NULL) {
        lua_pushlstring(L, a->result, a->result_len);
        if (a->video && a->video_url.set) sd_push_str(L, &a->video_url);
        else if (a->video) lua_pushboolean(L, 0);
        else lua_pushnil(L);
        if (a->video) sd_push_floor(L, &a->expires);
        else lua_pushnil(L);
        if (a->last_frame.set) sd_push_str(L, &a->last_frame);
        else lua_pushboolean(L, 0);
    } else {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
    }
    if (a->has_error) {
        lua_createtable(L, 0, 3);
        if (a->error_code.set) {
            lua_pushnumber(L, (lua_Number)a->error_code.v);
            lua_setfield(L, -2, "code");
        }
        if (a->error_message.set) {
            sd_push_str(L, &a->error_message);
            lua_setfield(L, -2, "message");
        }
        if (a->error_type.set) {
            sd_push_str(L, &a->error_type);
            lua_setfield(L, -2, "type");
        }
    } else {
        lua_pushnil(L);
    }
    return 11;
}
