/*
 * engine.c: the Lua face of the HTTP engine, core.engine{...} and its methods.
 * The only engine file that touches Lua; the IO lives in engine_loop.c and
 * engine_transfer.c, where libcurl callbacks fill C buffers and files.
 *
 * Handle lifetime (as liolib's files): the userdata is born closed (NULL
 * engine) and only then gets its engine, so a failed constructor leaves
 * nothing to leak; one function serves __gc, __close and close(), and is safe
 * to call twice. Closing aborts every transfer (files closed, memory freed).
 *
 * add() reads and checks every field of the request before it allocates
 * anything, so a caller mistake (which raises) never leaks C memory.
 *
 * Choices the Lua layer relies on:
 * - resume_from sends "Range: bytes=N-" (CURLOPT_RANGE), and if_range an
 *   If-Range header. A 206 answer is appended to the output file
 *   (result.resumed = true) only when it continues it (engine_output.c has
 *   the rules); a 200 answer (an If-Range mismatch, a server without ranges)
 *   makes the file anew. Output files are never opened through a symbolic link.
 * - The output file is opened on the first byte of a 2xx body (or at the end
 *   of an empty 2xx answer); a non-2xx answer never touches it.
 * - guard_link_local refuses connections to link-local peers, checked on the
 *   address libcurl connects to (kind "denied").
 * - follow_redirects: at most 5, http/https only. A custom Authorization
 *   header is dropped by libcurl (>= 7.83) when a redirect changes host, port
 *   or scheme (CURLOPT_UNRESTRICTED_AUTH stays off); with an older libcurl a
 *   transfer carrying Authorization does not follow and returns the 3xx.
 * - max_body defaults to 4 MiB; 0 means no cap.
 * - Methods: GET, POST, PUT, DELETE, HEAD. No Expect: 100-continue is sent
 *   unless the caller passes an Expect header.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "engine.h"
#include "engine_int.h"
#include "engine_lua.h"
#include "fs.h"
#include "header.h"

#define SD_JOB_BOX_MT "seedance.job"

/* __gc of the box that holds a finished job while next() builds its table. */
static int sd_job_box_gc(lua_State *L) {
    sd_job **box = (sd_job **)luaL_checkudata(L, 1, SD_JOB_BOX_MT);
    sd_job_free(*box);
    *box = NULL;
    return 0;
}

/* Default cap of in-memory bodies. */
#define SD_DEFAULT_MAX_BODY (4 * 1024 * 1024)

sd_engine *sd_check_engine(lua_State *L) {
    sd_engine_box *b = (sd_engine_box *)luaL_checkudata(L, 1, SD_ENGINE_MT);
    if (b->e == NULL) luaL_error(L, "attempt to use a closed engine");
    return b->e;
}

/* core.engine([opts]) -> engine. opts: max_host_connections, max_total_connections, user_agent,
 * file_budget (bytes of downloads one step may write to their files; 0, the default: no cap). */
static int sd_engine_new_l(lua_State *L) {
    sd_engine_opts o;
    sd_engine_box *b;
    char err[128];
    o.max_host_connections = 32;
    o.max_total_connections = 256;
    o.user_agent = NULL;
    o.file_budget = 0;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        o.max_host_connections = (long)sd_opt_count(L, 1, "max_host_connections", 1, 32);
        o.max_total_connections = (long)sd_opt_count(L, 1, "max_total_connections", 1, 256);
        o.user_agent = sd_opt_string(L, 1, "user_agent", 1, 0, NULL);
        o.file_budget = (long long)sd_opt_count(L, 1, "file_budget", 1, 0);
    }
    b = (sd_engine_box *)lua_newuserdata(L, sizeof *b);
    b->e = NULL; /* born closed */
    luaL_getmetatable(L, SD_ENGINE_MT);
    lua_setmetatable(L, -2);
    b->e = sd_engine_new(&o, err, sizeof err);
    if (b->e == NULL) return luaL_error(L, "cannot make an engine: %s", err);
    return 1;
}

/* Whether s holds a control character (below 0x20, or DEL). */
static int sd_has_control(const char *s) {
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    }
    return 0;
}

/* Read the form_file table at the top of the stack into rq (values stay on the stack). */
static void sd_read_form(lua_State *L, sd_request *rq) {
    int f = lua_gettop(L);
    if (lua_type(L, f) != LUA_TTABLE) sd_field_error(L, 2, "form_file", "a table");
    rq->form_name = sd_opt_string(L, f, "name", 2, 1, NULL);
    rq->form_path = sd_opt_string(L, f, "path", 2, 1, NULL);
    rq->form_filename = sd_opt_string(L, f, "filename", 2, 0, NULL);
    rq->form_type = sd_opt_string(L, f, "content_type", 2, 0, NULL);
    /* curl_mime_type writes the type into the part's header as it is */
    if (rq->form_type != NULL && rq->form_type[strcspn(rq->form_type, "\r\n")] != '\0')
        luaL_argerror(L, 2, "field 'content_type' must be one line (no CR or LF)");
}

/* Check the headers list at index h: strings "Name: value" without CR, LF or NUL. */
static size_t sd_check_headers(lua_State *L, int h) {
    size_t n, i;
    if (lua_type(L, h) != LUA_TTABLE) sd_field_error(L, 2, "headers", "a list of strings");
    n = sd_rawlen(L, h);
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *s;
        lua_rawgeti(L, h, (int)i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_argerror(L, 2, lua_pushfstring(L, "headers[%d] must be a string, got %s", (int)i, luaL_typename(L, -1)));
        s = lua_tolstring(L, -1, &len);
        if (strcspn(s, "\r\n") != len || memchr(s, ':', len) == NULL)
            luaL_argerror(L, 2, lua_pushfstring(L, "headers[%d] must be one \"Name: value\" line", (int)i));
        lua_pop(L, 1);
    }
    return n;
}

/* eng:add(request) -> id. */
static int sd_engine_add_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_request rq;
    int hidx = 0;
    size_t nh = 0, i;
    long long id;
    memset(&rq, 0, sizeof rq);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    luaL_checkstack(L, 40, "too many fields");
    /* phase 1: read and check everything (may raise; nothing allocated yet) */
    rq.method = sd_opt_string(L, 2, "method", 2, 0, NULL);
    if (rq.method == NULL) rq.method = "GET";
    else if (strcmp(rq.method, "GET") && strcmp(rq.method, "POST") && strcmp(rq.method, "PUT") &&
             strcmp(rq.method, "DELETE") && strcmp(rq.method, "HEAD"))
        luaL_argerror(L, 2, lua_pushfstring(L, "field 'method' must be GET, POST, PUT, DELETE or HEAD, got '%s'", rq.method));
    rq.url = sd_opt_string(L, 2, "url", 2, 1, NULL);
    lua_getfield(L, 2, "headers");
    if (!lua_isnil(L, -1)) {
        hidx = lua_gettop(L);
        nh = sd_check_headers(L, hidx);
    }
    rq.body = sd_opt_string(L, 2, "body", 2, 0, &rq.body_len);
    lua_getfield(L, 2, "form_file");
    if (!lua_isnil(L, -1)) sd_read_form(L, &rq);
    if (rq.body != NULL && rq.form_name != NULL)
        luaL_argerror(L, 2, "fields 'body' and 'form_file' cannot be used together");
    if ((rq.body != NULL || rq.form_name != NULL) && (strcmp(rq.method, "GET") == 0 || strcmp(rq.method, "HEAD") == 0))
        luaL_argerror(L, 2, lua_pushfstring(L, "a %s request cannot carry a body or form_file", rq.method));
    rq.output = sd_opt_string(L, 2, "output", 2, 0, NULL);
    rq.validator_file = sd_opt_string(L, 2, "validator_file", 2, 0, NULL);
    rq.if_range = sd_opt_string(L, 2, "if_range", 2, 0, NULL);
    if (rq.if_range != NULL && (rq.if_range[0] == '\0' || sd_has_control(rq.if_range)))
        luaL_argerror(L, 2, "field 'if_range' must be a non-empty line without control characters");
    rq.resume_from = (long long)sd_opt_count(L, 2, "resume_from", 2, 0);
    rq.max_file = (long long)sd_opt_count(L, 2, "max_file", 2, 0);
    rq.max_body = (size_t)sd_opt_count(L, 2, "max_body", 2, SD_DEFAULT_MAX_BODY);
    rq.timeout_ms = sd_ms(sd_opt_seconds(L, 2, "timeout", 2));
    rq.connect_timeout_ms = sd_ms(sd_opt_seconds(L, 2, "connect_timeout", 2));
    rq.low_speed_limit = (long)sd_opt_count(L, 2, "low_speed_limit", 2, 0);
    rq.low_speed_time = (long)sd_opt_count(L, 2, "low_speed_time", 2, 0);
    rq.ca_file = sd_opt_string(L, 2, "ca_file", 2, 0, NULL);
    rq.proxy = sd_opt_string(L, 2, "proxy", 2, 0, NULL);
    rq.insecure = sd_opt_bool(L, 2, "insecure", 2);
    rq.follow_redirects = sd_opt_bool(L, 2, "follow_redirects", 2);
    rq.guard_link_local = sd_opt_bool(L, 2, "guard_link_local", 2);
    rq.redirect_protocols = sd_opt_string(L, 2, "redirect_protocols", 2, 0, NULL);
    if (rq.redirect_protocols != NULL && strcmp(rq.redirect_protocols, "https") != 0 &&
        strcmp(rq.redirect_protocols, "http,https") != 0)
        luaL_argerror(L, 2, "field 'redirect_protocols' must be \"https\" or \"http,https\"");
    /* phase 2: C only (the header strings are anchored in the checked list) */
    for (i = 1; i <= nh; i++) {
        struct curl_slist *h;
        const char *s;
        lua_rawgeti(L, hidx, (int)i);
        s = lua_tostring(L, -1);
        if (sd_strncasecmp(s, "Authorization:", 14) == 0) rq.has_auth = 1;
        h = curl_slist_append(rq.headers, s);
        lua_pop(L, 1);
        if (h == NULL) {
            curl_slist_free_all(rq.headers);
            return luaL_error(L, "not enough memory");
        }
        rq.headers = h;
    }
    id = sd_engine_add(e, &rq); /* owns rq.headers from here */
    if (id < 0) return luaL_error(L, "not enough memory");
    sd_pushbig(L, id);
    return 1;
}

/*
 * eng:job{ op = "hash", path = P, max = N } | { op = "append", file = LOCK, data = S } |
 * { op = "read", file = LOCK, max = N } | { op = "remove", path = P } |
 * { op = "replace", path = P, to = T, remove = R } -> id: file work for the worker thread (jobs.c), whose
 * result next() hands over like a transfer's: { id, ok, job = op, hash | data, error }. LOCK is a
 * core.lock of the file (its own open file: a journal's lock); append writes S at the end and syncs it;
 * remove and replace free a large file's blocks off the frame (replace then removes R, if given).
 */
static int sd_engine_job_l(lua_State *L) {
    static const char *const ops[] = {"hash", "append", "read", "remove", "replace", NULL};
    sd_engine *e = sd_check_engine(L);
    const char *path = NULL, *to = NULL, *path2 = NULL, *data = NULL;
    size_t len = 0;
    sd_file f = SD_NOFILE;
    long long max = 0, id;
    int op;
    sd_job *j;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, 2, "op");
    op = luaL_checkoption(L, -1, NULL, ops);
    if (op == SD_JOB_HASH || op == SD_JOB_REMOVE || op == SD_JOB_REPLACE)
        path = sd_opt_string(L, 2, "path", 2, 1, NULL);
    if (op == SD_JOB_REPLACE) {
        to = sd_opt_string(L, 2, "to", 2, 1, NULL);
        path2 = sd_opt_string(L, 2, "remove", 2, 0, NULL);
    }
    if (op == SD_JOB_HASH || op == SD_JOB_READ) max = (long long)sd_opt_count(L, 2, "max", 2, 0);
    if (op == SD_JOB_APPEND) data = sd_opt_string(L, 2, "data", 2, 1, &len);
    if (op == SD_JOB_APPEND || op == SD_JOB_READ) {
        lua_getfield(L, 2, "file");
        f = sd_lock_handle(L, lua_gettop(L));
        if (f == SD_NOFILE) return luaL_argerror(L, 2, "field 'file' must be a lock that is held");
    }
    /* C only from here: nothing raises while the job owns memory */
    j = sd_job_new((sd_job_op)op);
    if (j == NULL) return luaL_error(L, "not enough memory");
    j->max = max;
    if ((path != NULL && (j->path = strdup(path)) == NULL) || (to != NULL && (j->to = strdup(to)) == NULL) ||
        (path2 != NULL && (j->path2 = strdup(path2)) == NULL))
        goto nomem;
    if (data != NULL) {
        if ((j->data = malloc(len ? len : 1)) == NULL) goto nomem;
        memcpy(j->data, data, len);
        j->len = len;
    }
    if (f != SD_NOFILE && (j->file = sd_file_dup(f)) == SD_NOFILE) {
        sd_job_free(j);
        return luaL_error(L, "cannot use the file: %s", sd_errstr(errno));
    }
    id = sd_engine_add_job(e, j); /* owns j from here */
    if (id < 0) return luaL_error(L, "cannot start the file worker");
    sd_pushbig(L, id);
    return 1;
nomem:
    sd_job_free(j);
    return luaL_error(L, "not enough memory");
}

/* Push the result table of a finished job. */
void sd_push_job(lua_State *L, const sd_job *j) {
    static const char *const ops[] = {"hash", "append", "read", "remove", "replace", "output"};
    lua_createtable(L, 0, 5);
    sd_pushbig(L, j->id);
    lua_setfield(L, -2, "id");
    lua_pushboolean(L, j->ok);
    lua_setfield(L, -2, "ok");
    lua_pushstring(L, ops[j->op]);
    lua_setfield(L, -2, "job");
    if (j->ok && j->op == SD_JOB_HASH) {
        lua_pushstring(L, j->hash);
        lua_setfield(L, -2, "hash");
    } else if (j->ok && j->op == SD_JOB_READ) {
        lua_pushlstring(L, j->data ? j->data : "", j->len);
        lua_setfield(L, -2, "data");
    }
    if (!j->ok) {
        lua_pushstring(L, sd_errstr(j->err));
        lua_setfield(L, -2, "error");
    }
}

/* eng:step([timeout_ms]) -> number of results waiting. */
static int sd_engine_step_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    double ms = (double)luaL_optnumber(L, 2, 0);
    luaL_argcheck(L, ms >= 0, 2, "timeout must be >= 0 milliseconds");
    lua_pushinteger(L, (lua_Integer)sd_engine_step(e, ms > (double)INT_MAX ? INT_MAX : (int)ms));
    return 1;
}

/* Push a table of the header lines in raw: lowercased names, trimmed values; a
 * name sent more than once maps to its values joined by LF, in order (no value
 * holds a LF, so the join is unambiguous and a reader sees every one). */
void sd_push_headers(lua_State *L, const sd_buf *raw) {
    const char *p = raw->data, *end = raw->data ? raw->data + raw->len : NULL;
    sd_header_field f;
    int n = 0;
    while (n < 64 && sd_header_next(&p, end, &f)) n++; /* its size first: the table is made once */
    lua_createtable(L, 0, n);
    p = raw->data;
    while (sd_header_next(&p, end, &f)) {
        luaL_Buffer name;
        size_t i;
        luaL_buffinit(L, &name);
        for (i = 0; i < f.name_len; i++) {
            char c = f.name[i];
            luaL_addchar(&name, (char)((c >= 'A' && c <= 'Z') ? c + 32 : c));
        }
        luaL_pushresult(&name);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isstring(L, -1)) { /* seen before: previous LF this one */
            lua_pushliteral(L, "\n");
            lua_pushlstring(L, f.value, f.value_len);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushlstring(L, f.value, f.value_len);
        }
        lua_rawset(L, -3);
    }
}

/* Set t[key] = integer-valued number n in the table at the top. */
static void sd_set_big(lua_State *L, const char *key, long long n) {
    sd_pushbig(L, n);
    lua_setfield(L, -2, key);
}

void sd_push_result(lua_State *L, sd_transfer *t) {
    int ok = sd_transfer_ok(t);
    lua_createtable(L, 0, 12);
    sd_set_big(L, "id", t->q.id);
    lua_pushboolean(L, ok);
    lua_setfield(L, -2, "ok");
    sd_set_big(L, "status", t->status);
    sd_push_headers(L, &t->head);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
    lua_setfield(L, -2, "body");
    sd_set_big(L, "bytes", t->bytes);
    sd_set_big(L, "curl_code", (long long)t->code);
    lua_pushnumber(L, (lua_Number)t->time);
    lua_setfield(L, -2, "time");
    lua_pushstring(L, t->effective_url ? t->effective_url : t->url ? t->url : "");
    lua_setfield(L, -2, "url");
    if (t->output != NULL) {
        lua_pushboolean(L, t->resumed);
        lua_setfield(L, -2, "resumed");
    }
    if (!ok) {
        char msg[CURL_ERROR_SIZE + 400];
        sd_transfer_error(t, msg, sizeof msg);
        lua_pushstring(L, msg);
        lua_setfield(L, -2, "error");
        lua_pushstring(L, sd_transfer_kind(t));
        lua_setfield(L, -2, "kind");
        if (t->fail == SD_FAIL_PAUSED) {
            lua_pushnumber(L, (lua_Number)t->wait_s);
            lua_setfield(L, -2, "wait");
        }
    }
}

/* eng:next() -> the oldest finished result (a table), or nil. A watch's event
 * in the queue comes as { id = its id, event = true } (the event stays for eng:take). */
static int sd_engine_next_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *n = e->qhead;
    if (n == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (n->kind == SD_NODE_WATCH) {
        lua_createtable(L, 0, 2);
        sd_set_big(L, "id", n->id);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "event");
        sd_engine_hand(e);
        return 1;
    }
    if (n->kind == SD_NODE_JOB) {
        /* build the table first: a memory error here leaves the result queued */
        sd_push_job(L, ((sd_jobnode *)n)->job);
        sd_engine_cancel(e, sd_engine_pop(e));
        return 1;
    }
    if (n->kind == SD_NODE_REDIS) {
        sd_push_redis(L, ((sd_rnode *)n)->r);
        sd_engine_cancel(e, sd_engine_pop(e));
        return 1;
    }
    /* build the table first: a memory error here leaves the result queued */
    sd_push_result(L, (sd_transfer *)n);
    sd_transfer_free((sd_transfer *)sd_engine_pop(e));
    return 1;
}

/* eng:progress(id) -> bytes so far, expected total (0 = unknown); nil for an unknown id. */
static int sd_engine_progress_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_qnode *n = sd_engine_find(e, sd_arg_id(L, 2));
    sd_transfer *t = n != NULL && n->kind == SD_NODE_TRANSFER ? (sd_transfer *)n : NULL;
    if (t == NULL) {
        lua_pushnil(L);
        return 1;
    }
    sd_pushbig(L, t->bytes);
    sd_pushbig(L, sd_transfer_total(t));
    return 2;
}

/* eng:cancel(id[, unsent]) -> whether a transfer (running or unread) or a watch was dropped; it yields no
 * result. With unsent true, only a transfer not handed to libcurl yet is dropped (an API call waiting for
 * its client's request window, a 429's pause, or for a step to start it): nothing of it was sent. */
static int sd_engine_cancel_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    long long id = sd_arg_id(L, 2);
    sd_qnode *n = sd_engine_find(e, id);
    if (lua_toboolean(L, 3)) {
        int unsent = n != NULL && n->kind == SD_NODE_TRANSFER &&
                     (((sd_transfer *)n)->state == SD_T_WAITING || ((sd_transfer *)n)->state == SD_T_STARTING);
        if (unsent) sd_engine_cancel(e, n);
        lua_pushboolean(L, unsent);
        return 1;
    }
    if (n != NULL) sd_engine_cancel(e, n);
    lua_pushboolean(L, n != NULL || sd_jobs_cancel(&e->jobs, id));
    return 1;
}

/* eng:pending() -> number of transfers not finished (starting, waiting for a window, running). */
static int sd_engine_pending_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    lua_pushinteger(L, (lua_Integer)sd_engine_pending(e));
    return 1;
}

/* eng:timeout() -> ms until step() is wanted again, -1 when there is nothing to wait for. */
static int sd_engine_timeout_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    lua_pushinteger(L, (lua_Integer)sd_engine_timeout(e));
    return 1;
}

/* eng:sockets() -> { {fd, "r"|"w"|"rw"}, ... } to watch from a host event loop. */
static int sd_engine_sockets_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    size_t i, n = 0;
    lua_createtable(L, (int)e->nsocks, 0);
    for (i = 0; i < e->nsocks; i++) {
        int what = e->socks[i]->what;
        const char *mode = what == CURL_POLL_INOUT ? "rw" : what == CURL_POLL_OUT ? "w" : what == CURL_POLL_IN ? "r" : NULL;
        if (mode == NULL) continue;
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, (lua_Integer)e->socks[i]->fd);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, mode);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)++n);
    }
    return 1;
}

/* eng:close(), __gc, __close: abort everything and free the engine; idempotent. */
static int sd_engine_close_l(lua_State *L) {
    sd_engine_box *b = (sd_engine_box *)luaL_checkudata(L, 1, SD_ENGINE_MT);
    if (b->e != NULL) {
        sd_engine *e = b->e;
        b->e = NULL;
        sd_engine_free(e);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* __tostring: "seedance.engine (0x...)" or "seedance.engine (closed)". */
static int sd_engine_tostring_l(lua_State *L) {
    sd_engine_box *b = (sd_engine_box *)luaL_checkudata(L, 1, SD_ENGINE_MT);
    if (b->e == NULL) lua_pushliteral(L, "seedance.engine (closed)");
    else lua_pushfstring(L, "seedance.engine (%p)", (void *)b->e);
    return 1;
}

static const luaL_Reg sd_engine_methods[] = {
    {"add", sd_engine_add_l},
    {"job", sd_engine_job_l},
    {"profile", sd_engine_profile_l},
    {"api", sd_engine_api_l},
    {"pop", sd_engine_pop_l},
    {"take", sd_engine_take_l},
    {"result", sd_engine_result_l},
    {"watch", sd_engine_watch_l},
    {"event", sd_engine_event_l},
    {"rearm", sd_engine_rearm_l},
    {"seen", sd_engine_seen_l},
    {"watch_info", sd_engine_watch_info_l},
    {"park", sd_engine_park_l},
    {"parked", sd_engine_parked_l},
    {"counts", sd_engine_counts_l},
    {"budget", sd_engine_budget_l},
    {"stats", sd_engine_stats_l},
    {"step", sd_engine_step_l},
    {"next", sd_engine_next_l},
    {"progress", sd_engine_progress_l},
    {"cancel", sd_engine_cancel_l},
    {"pending", sd_engine_pending_l},
    {"timeout", sd_engine_timeout_l},
    {"sockets", sd_engine_sockets_l},
    {"close", sd_engine_close_l},
    {NULL, NULL}};

static const luaL_Reg sd_engine_meta[] = {
    {"__gc", sd_engine_close_l},
    {"__close", sd_engine_close_l},
    {"__tostring", sd_engine_tostring_l},
    {NULL, NULL}};

void sd_engine_register(lua_State *L) {
    static int curl_ready = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) luaL_error(L, "curl_global_init failed");
        curl_ready = 1;
    }
    if (luaL_newmetatable(L, SD_ENGINE_MT)) {
        sd_setfuncs(L, sd_engine_meta);
        lua_newtable(L);
        sd_setfuncs(L, sd_engine_methods);
        sd_setfuncs(L, sd_engine_redis_methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, SD_ENGINE_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, SD_JOB_BOX_MT)) {
        lua_pushcfunction(L, sd_job_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    sd_api_register(L);
    lua_pushcfunction(L, sd_engine_new_l);
    lua_setfield(L, -2, "engine");
    sd_engine_redis_register(L);
}
