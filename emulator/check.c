/*
 * check.c: request validation with the project's one validator
 * (src/validate.c). The JSON body is parsed with cJSON, turned into a Lua
 * table the way lua-cjson would (null as a NULL light userdata), and handed
 * to sd_validate, so the emulator and the client apply the same rules.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"
#include "validate.h"
#include "validate_models.h"

/* --model-rules: { "NAME": { rules }, ... }, added to the built-in models of every check. */
static cJSON *model_rules;

/* Push a cJSON value as the Lua value lua-cjson would make. */
static void push_json(lua_State *L, const cJSON *v, int depth) {
    if (depth > 64) { lua_pushnil(L); return; }
    if (cJSON_IsObject(v)) {
        lua_newtable(L);
        for (const cJSON *c = v->child; c; c = c->next) {
            lua_pushstring(L, c->string ? c->string : "");
            push_json(L, c, depth + 1);
            lua_rawset(L, -3);
        }
    } else if (cJSON_IsArray(v)) {
        int i = 1;
        lua_newtable(L);
        for (const cJSON *c = v->child; c; c = c->next) {
            push_json(L, c, depth + 1);
            lua_rawseti(L, -2, i++);
        }
    } else if (cJSON_IsString(v)) {
        lua_pushstring(L, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (floor(d) == d && fabs(d) < 9007199254740992.0) lua_pushinteger(L, (lua_Integer)d);
        else lua_pushnumber(L, d);
    } else if (cJSON_IsBool(v)) {
        lua_pushboolean(L, cJSON_IsTrue(v));
    } else {
        lua_pushlightuserdata(L, NULL); /* null */
    }
}

/* Collect the problems into msg as "field: message; field: message". */
static int run_validator(lua_State *L) {
    const cJSON *req = (const cJSON *)lua_touserdata(L, 1);
    char *msg = (char *)lua_touserdata(L, 2);
    size_t cap = (size_t)lua_tointeger(L, 3), n = 0;
    luaL_newmetatable(L, SD_FILE_MT); /* the validator looks it up */
    lua_pop(L, 1);
    if (model_rules) {
        char err[400];
        push_json(L, model_rules, 0);
        if (sd_models_add_many(L, -1, err, sizeof err) != 0) return luaL_error(L, "--model-rules: %s", err);
        lua_pop(L, 1);
    }
    push_json(L, req, 0);
    int count = sd_validate(L, -1);
    msg[0] = '\0';
    for (int i = 1; i <= count && n + 1 < cap; i++) {
        lua_rawgeti(L, -1, i);
        lua_getfield(L, -1, "field");
        lua_getfield(L, -2, "message");
        n += (size_t)snprintf(msg + n, cap - n, "%s%s: %s", i > 1 ? "; " : "",
                              lua_tostring(L, -2), lua_tostring(L, -1));
        lua_pop(L, 3);
    }
    lua_pushinteger(L, count);
    return 1;
}

int emu_check_request(const cJSON *req, char *msg, size_t cap) {
    lua_State *L = luaL_newstate();
    int count = -1;
    if (!L) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    lua_pushcfunction(L, run_validator);
    lua_pushlightuserdata(L, (void *)req);
    lua_pushlightuserdata(L, msg);
    lua_pushinteger(L, (lua_Integer)cap);
    if (lua_pcall(L, 3, 1, 0) == 0) count = (int)lua_tointeger(L, -1);
    else snprintf(msg, cap, "validator failed: %s", lua_tostring(L, -1));
    lua_close(L);
    return count;
}

int emu_load_model_rules(const char *path, char *err, size_t cap) {
    FILE *f = fopen(path, "rb");
    char *text;
    long n;
    cJSON probe = {0};
    if (!f) {
        snprintf(err, cap, "cannot read %s", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = n >= 0 && n < 1048576 ? malloc((size_t)n + 1) : NULL;
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        fclose(f);
        snprintf(err, cap, "cannot read %s (at most 1 MB)", path);
        return -1;
    }
    fclose(f);
    text[n] = '\0';
    model_rules = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(model_rules)) {
        cJSON_Delete(model_rules);
        model_rules = NULL;
        snprintf(err, cap, "%s is not a JSON object { \"NAME\": { rules }, ... }", path);
        return -1;
    }
    /* one check now, so that rules that cannot be taken stop the emulator at its start */
    probe.type = cJSON_Object;
    if (emu_check_request(&probe, err, cap) < 0) {
        cJSON_Delete(model_rules);
        model_rules = NULL;
        return -1;
    }
    return 0;
}

void emu_free_model_rules(void) {
    cJSON_Delete(model_rules);
    model_rules = NULL;
}
