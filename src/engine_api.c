/*
 * engine_api.c: the Lua face of a client's per-request path in C.
 *
 *   eng:profile{...}            a client's settings, given once (a seedance.profile)
 *   eng:api(prof, method, path, body, line, timeout, deadline, shape) -> id
 *                               an API call: only what differs per request
 *   eng:pop() -> id             the oldest finished call or watch event, handed over
 *   eng:take(id[, task_id])     a call's answer read in C: `true, fields...`
 *                               (engine_api_answer.c), or `false, result` (the
 *                               result table) for any answer the engine does not
 *                               read (errors, odd bodies)
 *   eng:watch(...), eng:event(id), eng:rearm(id), ...
 *                               a task's watch (engine_api_watch.c); its event's
 *                               answer is read by eng:take
 *   eng:budget{...}, eng:stats()  a step's work budget, and what the last step did
 *
 * The API key reaches C inside the profile's header lines and lives there:
 * no Lua table holds it. A profile is born closed (as engine handles are),
 * counted (its transfers and watches hold it), and one function serves __gc,
 * __close and close().
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <string.h>

#include "compat.h"
#include "engine_lua.h"

#define SD_PROFILE_MT "seedance.profile"

/* The userdata: a box around a profile, NULL once closed. */
typedef struct sd_profile_box {
    sd_profile *p; /* the profile, or NULL when closed */
} sd_profile_box;

/* The open profile at argument i; raises on a closed one. */
static sd_profile *sd_check_profile(lua_State *L, int i) {
    sd_profile_box *b = (sd_profile_box *)luaL_checkudata(L, i, SD_PROFILE_MT);
    if (b->p == NULL) luaL_error(L, "attempt to use a closed profile");
    return b->p;
}

/* The profile at argument i, which must belong to engine e. */
sd_profile *sd_engine_profile(lua_State *L, sd_engine *e, int i) {
    sd_profile *p = sd_check_profile(L, i);
    if (p->eng != e) luaL_argerror(L, i, "a profile of another engine");
    return p;
}

/* t[key] as a string without NUL (NULL when nil); the value stays on the stack. */
static const char *sd_field_string(lua_State *L, int t, const char *key) {
    size_t n;
    const char *s;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1)) return NULL;
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, 2, lua_pushfstring(L, "field '%s' must be a string, got %s", key, luaL_typename(L, -1)));
    s = lua_tolstring(L, -1, &n);
    if (strlen(s) != n) luaL_argerror(L, 2, lua_pushfstring(L, "field '%s' must not contain NUL", key));
    return s;
}

/* t[key] as a finite number >= 0 (def when nil); pops it. */
static double sd_field_number(lua_State *L, int t, const char *key, double def) {
    double d;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    d = lua_type(L, -1) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : -1;
    if (!(d >= 0) || isinf(d))
        luaL_argerror(L, 2, lua_pushfstring(L, "field '%s' must be a number >= 0", key));
    lua_pop(L, 1);
    return d;
}

/* t[key] as a boolean (false when nil); pops it. */
static int sd_field_bool(lua_State *L, int t, const char *key) {
    int v;
    lua_getfield(L, t, key);
    v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Seconds to whole milliseconds for libcurl, rounded up, capped. */
static long sd_to_ms(double s) {
    double ms = ceil(s * 1000.0);
    return ms > (double)LONG_MAX ? LONG_MAX : (long)ms;
}

/* Whether s is one header line: no CR, LF, and a colon. */
static int sd_one_line(const char *s, size_t n) {
    return strcspn(s, "\r\n") == n && memchr(s, ':', n) != NULL;
}

/* Append a line to *list (curl_slist_append); -1 when memory ran out. */
static int sd_append(struct curl_slist **list, const char *line) {
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL) return -1;
    *list = l;
    return 0;
}

/*
 * eng:profile{ base, headers, poll_query, ca_file, proxy, timeout, connect_timeout,
 *              max_body, guard_link_local, governed, max_requests, poll_min, poll_max,
 *              time_scale, lag_floor, lag_share, slack, wake_all } -> profile
 */
int sd_engine_profile_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_profile_box *b;
    sd_profile *p;
    const char *base, *query, *ca, *proxy;
    size_t nh, i, base_len;
    int h;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    luaL_checkstack(L, 20, "profile");
    /* read and check everything first: nothing is allocated before a caller mistake raises */
    base = sd_field_string(L, 2, "base");
    if (base == NULL) luaL_argerror(L, 2, "field 'base' must be a string");
    base_len = strlen(base);
    while (base_len > 0 && base[base_len - 1] == '/') base_len--;
    query = sd_field_string(L, 2, "poll_query");
    ca = sd_field_string(L, 2, "ca_file");
    proxy = sd_field_string(L, 2, "proxy");
    lua_getfield(L, 2, "headers");
    h = lua_gettop(L);
    if (lua_type(L, h) != LUA_TTABLE) luaL_argerror(L, 2, "field 'headers' must be a list of strings");
    nh = sd_rawlen(L, h);
    for (i = 1; i <= nh; i++) {
        size_t n;
        const char *s;
        lua_rawgeti(L, h, (int)i);
        s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        if (s == NULL || !sd_one_line(s, n))
            luaL_argerror(L, 2, lua_pushfstring(L, "headers[%d] must be one \"Name: value\" line", (int)i));
        lua_pop(L, 1);
    }
    b = (sd_profile_box *)lua_newuserdata(L, sizeof *b);
    b->p = NULL; /* born closed */
    luaL_getmetatable(L, SD_PROFILE_MT);
    lua_setmetatable(L, -2);
    p = calloc(1, sizeof *p);
    if (p == NULL) return luaL_error(L, "not enough memory");
    p->refs = 1;
    b->p = p;
    p->check_us = -1;
    p->timeout_ms = sd_to_ms(sd_field_number(L, 2, "timeout", 0));
    p->connect_timeout_ms = sd_to_ms(sd_field_number(L, 2, "connect_timeout", 0));
    p->max_body = (size_t)sd_field_number(L, 2, "max_body", 4 * 1024 * 1024);
    p->guard_link_local = sd_field_bool(L, 2, "guard_link_local");
    p->governed = sd_field_bool(L, 2, "governed");
    p->max_requests = (int)sd_field_number(L, 2, "max_requests", 64);
    if (p->max_requests < 1) p->max_requests = 1;
    p->window = p->max_requests;
    p->poll_min = sd_field_number(L, 2, "poll_min", 1);
    p->poll_max = sd_field_number(L, 2, "poll_max", 30);
    p->time_scale = sd_field_number(L, 2, "time_scale", 1);
    if (!(p->time_scale > 0)) p->time_scale = 1;
    p->lag_floor = sd_field_number(L, 2, "lag_floor", 2);
    p->lag_share = sd_field_number(L, 2, "lag_share", 0.05);
    p->slack = sd_field_number(L, 2, "slack", 4);
    if (!(p->slack > 0)) p->slack = 4;
    p->wake_all = sd_field_bool(L, 2, "wake_all");
    if ((p->base = malloc(base_len + 1)) == NULL) return luaL_error(L, "not enough memory");
    memcpy(p->base, base, base_len);
    p->base[base_len] = '\0';
    p->base_len = base_len;
    if ((query != NULL && (p->poll_query = strdup(query)) == NULL) || (ca != NULL && (p->ca_file = strdup(ca)) == NULL) ||
        (proxy != NULL && (p->proxy = strdup(proxy)) == NULL))
        return luaL_error(L, "not enough memory");
    for (i = 1; i <= nh; i++) {
        const char *s;
        lua_rawgeti(L, h, (int)i);
        s = lua_tostring(L, -1);
        if (sd_append(&p->get_headers, s) != 0 || sd_append(&p->json_headers, s) != 0)
            return luaL_error(L, "not enough memory");
        lua_pop(L, 1);
    }
    /* no Expect: 100-continue round trip before a body */
    if (sd_append(&p->get_headers, "Expect:") != 0 ||
        sd_append(&p->json_headers, "Content-Type: application/json") != 0 ||
        sd_append(&p->json_headers, "Expect:") != 0)
        return luaL_error(L, "not enough memory");
    /* enter the engine's list (it holds no reference: the profile leaves it when freed) */
    p->eng = e;
    p->next = e->profiles;
    if (e->profiles != NULL) e->profiles->prev = p;
    e->profiles = p;
    return 1;
}

/* prof:close(), __gc, __close: the Lua side lets go (calls in flight keep it); idempotent. */
static int sd_profile_close_l(lua_State *L) {
    sd_profile_box *b = (sd_profile_box *)luaL_checkudata(L, 1, SD_PROFILE_MT);
    if (b->p != NULL) {
        sd_profile *p = b->p;
        b->p = NULL;
        sd_profile_release(p);
    }
    return 0;
}

/* prof:pause(seconds): a 429 asked every sender of the client to wait (the governor). */
static int sd_profile_pause_l(lua_State *L) {
    sd_profile *p = sd_check_profile(L, 1);
    double s = (double)luaL_checknumber(L, 2);
    sd_window_pause(p, s, sd_sched_now());
    return 0;
}

/* prof:stats() -> { active, window, throttled, waiting, paused } */
static int sd_profile_stats_l(lua_State *L) {
    sd_profile *p = sd_check_profile(L, 1);
    long long now = sd_sched_now();
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, p->active);
    lua_setfield(L, -2, "active");
    lua_pushnumber(L, (lua_Number)p->window);
    lua_setfield(L, -2, "window");
    lua_pushinteger(L, (lua_Integer)p->throttled);
    lua_setfield(L, -2, "throttled");
    lua_pushinteger(L, (lua_Integer)p->nwaiting);
    lua_setfield(L, -2, "waiting");
    lua_pushnumber(L, p->pause_until_us > now ? (lua_Number)(p->pause_until_us - now) / 1e6 : 0);
    lua_setfield(L, -2, "paused");
    return 1;
}

/* __tostring: never a header line (the key is among them). */
static int sd_profile_tostring_l(lua_State *L) {
    sd_profile_box *b = (sd_profile_box *)luaL_checkudata(L, 1, SD_PROFILE_MT);
    if (b->p == NULL) lua_pushliteral(L, "seedance.profile (closed)");
    else lua_pushfstring(L, "seedance.profile (%p)", (void *)b->p);
    return 1;
}

/* An absolute deadline (core.now() seconds) at argument i as monotonic us, -1 for none. */
long long sd_opt_deadline(lua_State *L, int i) {
    double d;
    if (lua_isnoneornil(L, i)) return -1;
    d = (double)luaL_checknumber(L, i);
    if (d != d) luaL_argerror(L, i, "deadline must be a number");
    if (d >= 9e12) return -1; /* math.huge, or so far it never comes */
    return d <= 0 ? 0 : (long long)(d * 1e6);
}

/* eng:api(prof, method, path, body, key, timeout, deadline, shape) -> id
 * method "GET" or "POST"; path under the profile's base; body a JSON string,
 * a form { name, path, filename, content_type } or nil; key the call's
 * Idempotency-Key or nil; timeout seconds (nil: the profile's, 0: none); deadline an
 * absolute core.now() time the call gives up at before it starts (nil: none);
 * shape how its answer is read (0 raw, 1 a submit's, 2 a task's). */
int sd_engine_api_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_profile *p = sd_engine_profile(L, e, 2);
    const char *method = luaL_checkstring(L, 3);
    size_t path_len, body_len = 0, line_len = 0;
    const char *path = luaL_checklstring(L, 4, &path_len);
    const char *body = NULL, *line = NULL, *form_name = NULL, *form_path = NULL, *form_filename = NULL,
               *form_type = NULL;
    double timeout = -1;
    long long deadline;
    int shape, post = strcmp(method, "POST") == 0;
    long long id;
    sd_transfer *t;
    lua_settop(L, 9);
    if (!post && strcmp(method, "GET") != 0) luaL_argerror(L, 3, "GET or POST expected");
    if (strlen(path) != path_len || path[0] != '/') luaL_argerror(L, 4, "a path beginning with '/' expected");
    if (lua_type(L, 5) == LUA_TSTRING) {
        body = lua_tolstring(L, 5, &body_len);
    } else if (lua_type(L, 5) == LUA_TTABLE) {
        form_name = sd_field_string(L, 5, "name");
        form_path = sd_field_string(L, 5, "path");
        form_filename = sd_field_string(L, 5, "filename");
        form_type = sd_field_string(L, 5, "content_type");
        if (form_name == NULL || form_path == NULL) luaL_argerror(L, 5, "a form needs 'name' and 'path'");
        if (form_type != NULL && form_type[strcspn(form_type, "\r\n")] != '\0')
            luaL_argerror(L, 5, "field 'content_type' must be one line (no CR or LF)");
    } else if (!lua_isnil(L, 5)) {
        luaL_argerror(L, 5, "a string, a form table or nil expected");
    }
    if ((body != NULL || form_name != NULL) && !post) luaL_argerror(L, 5, "a GET request cannot carry a body");
    if (!lua_isnil(L, 6)) {
        size_t key_len;
        const char *key = luaL_checklstring(L, 6, &key_len);
        if (strlen(key) != key_len || strcspn(key, "\r\n") != key_len || key_len > 256)
            luaL_argerror(L, 6, "a key of at most 256 bytes on one line expected");
        lua_pushliteral(L, "Idempotency-Key: ");
        lua_pushvalue(L, 6);
        lua_concat(L, 2);
        line = lua_tolstring(L, -1, &line_len); /* (anchored on the stack) */
    }
    if (!lua_isnil(L, 7)) {
        timeout = (double)luaL_checknumber(L, 7);
        if (!(timeout >= 0)) luaL_argerror(L, 7, "timeout must be a number >= 0");
    }
    deadline = sd_opt_deadline(L, 8);
    shape = (int)luaL_optinteger(L, 9, SD_SHAPE_RAW);
    if (shape < SD_SHAPE_RAW || shape > SD_SHAPE_TASK) luaL_argerror(L, 9, "shape 0, 1 or 2 expected");
    t = sd_api_new(p, path, path_len, body, body_len, line, timeout, deadline, shape);
    if (t == NULL) return luaL_error(L, "not enough memory");
    if (form_name != NULL && sd_api_form(t, form_name, form_path, form_filename, form_type) != 0) {
        sd_transfer_free(t);
        return luaL_error(L, "not enough memory");
    }
    id = sd_engine_api(e, t);
    sd_pushbig(L, id);
    return 1;
}

/* eng:pop() -> the id of the oldest finished transfer or watch event (then eng:take or eng:result reads it), or nil. */
int sd_engine_pop_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *n = sd_engine_hand(e);
    if (n == NULL) lua_pushnil(L);
    else sd_pushbig(L, n->id);
    return 1;
}

/* The id (of a transfer, watch, job or Redis connection) at argument i: a number (raises otherwise),
 * -1 when it is no id the engine gives. */
long long sd_arg_id(lua_State *L, int i) {
    double d = (double)luaL_checknumber(L, i);
    return (d >= 1 && d < 9007199254740992.0) ? (long long)d : -1;
}

/* Read a watch's event: its task fields (true, ...), its answer (false, result), or false for its deadline. */
static int sd_take_event(lua_State *L, sd_engine *e, sd_watch *w) {
    int n = 0;
    sd_transfer *t = w->event;
    (void)e;
    if (w->event_kind == SD_EV_TASK && t != NULL) n = sd_push_task(L, t, w->task_id, w->id_len);
    if (n == 0) {
        lua_pushboolean(L, 0);
        n = 1;
        if (t != NULL) {
            sd_push_result(L, t);
            n = 2;
        }
    }
    w->event = NULL;
    w->event_kind = SD_EV_NONE;
    w->absorbed = 0;
    if (t != NULL) sd_transfer_free(t);
    return n;
}

/* eng:take(id[, task_id]): what a finished API call (or a watch's event) says.
 * A clean answer of a submit: true, HTTP status, seconds, the service's clock, task id,
 * status|nil, replayed.
 * A clean answer of a task poll (task_id given): true, HTTP status, seconds, the service's
 * clock, and the task's fields (see sd_push_task).
 * Anything else: false, the result table (the same as eng:next() gives).
 * A watch's deadline: false. nil when there is nothing (an id cancelled, or not finished). */
int sd_engine_take_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *node = sd_engine_find(e, sd_arg_id(L, 2));
    sd_transfer *t;
    int n = 0;
    if (node == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (node->kind == SD_NODE_WATCH) return sd_take_event(L, e, (sd_watch *)node);
    t = (sd_transfer *)node;
    if (t->state != SD_T_DONE) {
        lua_pushnil(L);
        return 1;
    }
    if (t->shape == SD_SHAPE_SUBMIT) {
        n = sd_push_submit(L, t);
    } else if (t->shape == SD_SHAPE_TASK && lua_type(L, 3) == LUA_TSTRING) {
        size_t id_len;
        const char *id = lua_tolstring(L, 3, &id_len);
        n = sd_push_task(L, t, id, id_len);
    }
    if (n == 0) {
        lua_pushboolean(L, 0);
        sd_push_result(L, t);
        n = 2;
    }
    sd_engine_forget(e, t);
    sd_transfer_free(t);
    return n;
}

/* eng:result(id) -> the result table of a finished transfer or file job (frees it), or nil. */
int sd_engine_result_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *node = sd_engine_find(e, sd_arg_id(L, 2));
    sd_transfer *t;
    if (node != NULL && node->kind == SD_NODE_JOB) {
        sd_push_job(L, ((sd_jobnode *)node)->job);
        sd_engine_cancel(e, node);
        return 1;
    }
    if (node != NULL && node->kind == SD_NODE_REDIS) {
        sd_push_redis(L, ((sd_rnode *)node)->r);
        sd_engine_cancel(e, node);
        return 1;
    }
    if (node == NULL || node->kind != SD_NODE_TRANSFER || ((sd_transfer *)node)->state != SD_T_DONE) {
        lua_pushnil(L);
        return 1;
    }
    t = (sd_transfer *)node;
    sd_push_result(L, t);
    sd_engine_forget(e, t);
    sd_transfer_free(t);
    return 1;
}

/* eng:budget([{ starts, downloads, sockets, answers, us }]) -> the budget of one step (0: no limit). */
int sd_engine_budget_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_budget *b = &e->budget;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        b->starts = (int)sd_field_number(L, 2, "starts", b->starts);
        b->downloads = (int)sd_field_number(L, 2, "downloads", b->downloads);
        b->sockets = (int)sd_field_number(L, 2, "sockets", b->sockets);
        b->answers = (int)sd_field_number(L, 2, "answers", b->answers);
        b->us = (long long)sd_field_number(L, 2, "us", (double)b->us);
    }
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, b->starts);
    lua_setfield(L, -2, "starts");
    lua_pushinteger(L, b->downloads);
    lua_setfield(L, -2, "downloads");
    lua_pushinteger(L, b->sockets);
    lua_setfield(L, -2, "sockets");
    lua_pushinteger(L, b->answers);
    lua_setfield(L, -2, "answers");
    lua_pushinteger(L, (lua_Integer)b->us);
    lua_setfield(L, -2, "us");
    return 1;
}

/* eng:stats() -> { starts, downloads, sockets, answers (what the last step did), more, queued, pending, watches,
 * running (transfers in libcurl), files_worker, files_here (downloads' files opened on the worker thread, on this one) }. */
int sd_engine_stats_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    lua_createtable(L, 0, 11);
    lua_pushinteger(L, (lua_Integer)e->running);
    lua_setfield(L, -2, "running");
    lua_pushinteger(L, (lua_Integer)e->files_worker);
    lua_setfield(L, -2, "files_worker");
    lua_pushinteger(L, (lua_Integer)e->files_here);
    lua_setfield(L, -2, "files_here");
    lua_pushinteger(L, e->last.starts);
    lua_setfield(L, -2, "starts");
    lua_pushinteger(L, e->last.downloads);
    lua_setfield(L, -2, "downloads");
    lua_pushinteger(L, e->last.sockets);
    lua_setfield(L, -2, "sockets");
    lua_pushinteger(L, e->last.answers);
    lua_setfield(L, -2, "answers");
    lua_pushboolean(L, e->more);
    lua_setfield(L, -2, "more");
    lua_pushinteger(L, (lua_Integer)e->nqueued);
    lua_setfield(L, -2, "queued");
    lua_pushinteger(L, (lua_Integer)sd_engine_pending(e));
    lua_setfield(L, -2, "pending");
    lua_pushinteger(L, (lua_Integer)e->nwatches);
    lua_setfield(L, -2, "watches");
    return 1;
}

/* An optional number (-1 when nil). */
static double sd_num_or(lua_State *L, int i) {
    return lua_isnoneornil(L, i) ? -1 : (double)luaL_checknumber(L, i);
}

/* core.poll_delay(elapsed, progress, prev_elapsed, prev_progress, step, estimated, poll_min, poll_max,
 * lag_floor, lag_share, slack) -> seconds: the engine's schedule, to compare with seedance.polling. */
static int sd_core_poll_delay(lua_State *L) {
    double d = sd_poll_delay(sd_num_or(L, 1), (int)sd_num_or(L, 2), sd_num_or(L, 3), (int)sd_num_or(L, 4),
                             (int)sd_num_or(L, 5), sd_num_or(L, 6), luaL_checknumber(L, 7), luaL_checknumber(L, 8),
                             luaL_checknumber(L, 9), luaL_checknumber(L, 10), luaL_checknumber(L, 11));
    lua_pushnumber(L, (lua_Number)d);
    return 1;
}

static const luaL_Reg sd_profile_methods[] = {
    {"pause", sd_profile_pause_l},
    {"stats", sd_profile_stats_l},
    {"close", sd_profile_close_l},
    {NULL, NULL}};

static const luaL_Reg sd_profile_meta[] = {
    {"__gc", sd_profile_close_l},
    {"__close", sd_profile_close_l},
    {"__tostring", sd_profile_tostring_l},
    {NULL, NULL}};

void sd_api_register(lua_State *L) {
    if (luaL_newmetatable(L, SD_PROFILE_MT)) {
        sd_setfuncs(L, sd_profile_meta);
        lua_newtable(L);
        sd_setfuncs(L, sd_profile_methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, SD_PROFILE_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, sd_core_poll_delay);
    lua_setfield(L, -2, "poll_delay");
}
