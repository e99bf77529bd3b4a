/*
 * fuzz_answer.c: the engine's reading of API answers in C (src/answer.c on
 * the pull reader src/jsonread.c): a poll's task fields and a submit's task
 * id, read from the service's JSON with no Lua, no allocation and no locale
 * (run under a comma locale, de_DE.UTF-8 when the machine has it, as a host
 * may set one). The engine uses the fields only of a "clean" answer; any
 * other goes whole to the Lua layer.
 *
 * Input: a first byte 'S' reads the rest as a submit's answer; else the bytes
 * up to the first LF are the task id asked about (task_A when there is no LF,
 * or an empty one) and the rest is a poll's answer.
 *
 * Properties checked on every input (abort() when one fails):
 * - every span the reader gives lies inside the answer, and decodes;
 * - a clean answer is JSON the library's own decoder (src/json.c, lua-cjson's
 *   reading) decodes, and the fields read in C are exactly what the Lua layer
 *   reads from that decoded table: Task:_apply's rules for a poll (status,
 *   progress clamped and floored, estimated_time, created, completed,
 *   actual_time each within its range, the result object (its text decodes to
 *   the same table), the first video's URL and expiry, the last frame's URL,
 *   the error object), asked about this task (its data.id, else data.task_id);
 *   client.lua's `submitted` for a submit (task_id, else id, a usable task id,
 *   and the status);
 * - nothing leaks (LeakSanitizer).
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "answer.h"
#include "answer_push.h"
#include "json.h"

static lua_State *L;

/* The reference: what the Lua layer reads from the decoded answer (task.lua's Task:_apply and
 * first_url/last_frame, client.lua's submitted). check_task and check_submit raise on a difference. */
static const char *REFERENCE =
    "local json = ...\n"
    "local function number_in(v, lo, hi)\n"
    "  if type(v) ~= 'number' or v ~= v or v < lo or v > hi then return nil end\n"
    "  return v\n"
    "end\n"
    "local function first_url(v)\n"
    "  if type(v) == 'string' and v ~= '' then return v end\n"
    "  if type(v) == 'table' and type(v[1]) == 'string' and v[1] ~= '' then return v[1] end\n"
    "  return nil\n"
    "end\n"
    "local function last_frame(result)\n"
    "  local u = first_url(result.last_frame_url)\n"
    "  if u then return u end\n"
    "  if type(result.videos) == 'table' then\n"
    "    for _, v in ipairs(result.videos) do\n"
    "      u = type(v) == 'table' and first_url(v.last_frame_url)\n"
    "      if u then return u end\n"
    "    end\n"
    "  end\n"
    "  if type(result.images) == 'table' and type(result.images[1]) == 'table' then\n"
    "    return first_url(result.images[1].url)\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "local function same(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) ~= 'table' then return a == b or (a ~= a and b ~= b) end\n"
    "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function eq(what, want, got)\n"
    "  if not same(want, got) then\n"
    "    error(string.format('%s: the Lua layer reads %s, C read %s', what, tostring(want), tostring(got)), 0)\n"
    "  end\n"
    "end\n"
    "local function decoded(body)\n"
    "  local obj, err = json.decode(body)\n"
    "  if type(obj) ~= 'table' then error('a clean answer the decoder refuses: ' .. tostring(err), 0) end\n"
    "  return obj\n"
    "end\n"
    "function check_task(body, id, status, p, est, created, completed, actual, result, video, expires, frame, err)\n"
    "  local data = decoded(body).data\n"
    "  if type(data) ~= 'table' then error('a clean answer without a data object', 0) end\n"
    "  local did = data.id\n"
    "  if did == nil then did = data.task_id end\n"
    "  if did ~= nil and did ~= id then error('a clean answer about another task: ' .. tostring(did), 0) end\n"
    "  eq('status', type(data.status) == 'string' and #data.status <= 64 and data.status or nil, status)\n"
    "  local rp = number_in(data.progress, -1e9, 1e9)\n"
    "  if rp then rp = math.floor(math.max(0, math.min(100, rp))) end\n"
    "  eq('progress', rp, p)\n"
    "  eq('estimated_time', number_in(data.estimated_time, 0, 1e8), est)\n"
    "  local c, d = number_in(data.created, 0, 1e11), number_in(data.completed, 0, 1e11)\n"
    "  eq('created', c and math.floor(c), created)\n"
    "  eq('completed', d and math.floor(d), completed)\n"
    "  eq('actual_time', number_in(data.actual_time, 0, 1e8), actual)\n"
    "  local r = type(data.result) == 'table' and data.result or nil\n"
    "  if r then\n"
    "    if result == nil then error('the result object not read', 0) end\n"
    "    local got = json.decode(result)\n"
    "    eq('result', r, got)\n"
    "    local v, rv, re = type(r.videos) == 'table' and r.videos[1], nil, nil\n"
    "    if type(v) == 'table' then\n"
    "      rv = first_url(v.url) or false\n"
    "      local e = number_in(v.expires_at, 0, 1e11)\n"
    "      re = e and math.floor(e)\n"
    "    end\n"
    "    eq('video_url', rv, video)\n"
    "    eq('expires_at', re, expires)\n"
    "    eq('last_frame_url', last_frame(r) or false, frame)\n"
    "  elseif result ~= nil then\n"
    "    error('a result read where the answer has no result object', 0)\n"
    "  end\n"
    "  local e = type(data.error) == 'table' and data.error or nil\n"
    "  eq('error', e, err)\n"
    "end\n"
    "function check_submit(body, id, status)\n"
    "  local data = decoded(body).data\n"
    "  if type(data) == 'table' and data[1] ~= nil then data = data[1] end\n"
    "  if type(data) ~= 'table' then error('a clean submit answer without its object', 0) end\n"
    "  local rid = data.task_id or data.id\n"
    "  eq('task id', rid, id)\n"
    "  eq('status', type(data.status) == 'string' and #data.status <= 64 and data.status or 'submitted', status)\n"
    "end\n";

static void setup(void) {
    if (L != NULL) return;
    if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL) setlocale(LC_ALL, "de_DE.utf8");
    L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadstring(L, REFERENCE) != 0) abort();
    lua_newtable(L);
    sd_json_register(L); /* json.decode, json.encode */
    lua_pushvalue(L, -1);
    lua_setglobal(L, "json");
    lua_getfield(L, -1, "json_decode");
    lua_setfield(L, -2, "decode");
    if (lua_pcall(L, 1, 0, 0) != 0) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        abort();
    }
}

/* The span lies inside [body, body + len), and decodes. */
static void check_span(const char *what, const sd_jr_str *s, const char *body, size_t len) {
    char *out;
    size_t n;
    if (s->raw < body || s->len > len || s->raw + s->len > body + len) {
        fprintf(stderr, "%s: span outside the answer\n", what);
        abort();
    }
    out = malloc(SD_JR_DECODED_MAX(s->len));
    if (out == NULL) abort();
    n = sd_jr_decode(s, out);
    if (n > SD_JR_DECODED_MAX(s->len)) abort();
    free(out);
}

static void call(int nargs) {
    if (lua_pcall(L, nargs, 0, 0) != 0) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        abort();
    }
}

static void task(const char *id, size_t id_len, const char *body, size_t len) {
    sd_task_answer a;
    sd_answer_task(body, len, id, id_len, &a);
    if (a.status.set) check_span("status", &a.status.s, body, len);
    if (a.video_url.set) check_span("video_url", &a.video_url.s, body, len);
    if (a.last_frame.set) check_span("last_frame", &a.last_frame.s, body, len);
    if (a.error_message.set) check_span("error message", &a.error_message.s, body, len);
    if (a.error_type.set) check_span("error type", &a.error_type.s, body, len);
    if (a.result != NULL && (a.result < body || a.result_len > len || a.result + a.result_len > body + len)) {
        fprintf(stderr, "result: span outside the answer\n");
        abort();
    }
    if (!a.clean) return;
    lua_getglobal(L, "check_task");
    lua_pushlstring(L, body, len);
    lua_pushlstring(L, id, id_len);
    sd_answer_push_task(L, &a); /* the engine's own push (src/answer_push.c) */
    call(13);
}

static void submit(const char *body, size_t len) {
    sd_submit_answer a;
    sd_answer_submit(body, len, &a);
    if (!a.clean) return;
    check_span("task id", &a.id, body, len);
    if (a.status_set) check_span("status", &a.status, body, len);
    lua_getglobal(L, "check_submit");
    lua_pushlstring(L, body, len);
    lua_pushlstring(L, a.id.raw, a.id.len); /* (a usable id holds no escape) */
    if (a.status_set) lua_pushlstring(L, a.status.raw, a.status.len);
    else lua_pushliteral(L, "submitted");
    call(3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data, *nl;
    setup();
    if (size > 0 && s[0] == 'S') {
        /* the body in an allocation of exactly its size: a read past it is caught */
        char *body = malloc(size - 1 ? size - 1 : 1);
        if (body == NULL) abort();
        memcpy(body, s + 1, size - 1);
        submit(body, size - 1);
        free(body);
        return 0;
    }
    nl = memchr(s, '\n', size);
    {
        const char *id = "task_A";
        size_t id_len = 6, off = 0;
        char *body;
        if (nl != NULL && nl > s && nl - s <= 128) {
            id = s;
            id_len = (size_t)(nl - s);
            off = id_len + 1;
        }
        body = malloc(size - off ? size - off : 1);
        if (body == NULL) abort();
        memcpy(body, s + off, size - off);
        task(id, id_len, body, size - off);
        free(body);
    }
    lua_settop(L, 0);
    return 0;
}
