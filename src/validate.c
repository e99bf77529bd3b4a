/*
 * validate.c: checks a generation request against the service contract
 * (API.md section 1, with the rules of section 5) and lists every problem,
 * each with the path of the field it concerns. This file walks the request
 * once and dispatches each key through the field table (validate_fields.h);
 * validate_int.h says which file holds the rest.
 *
 * Only raw accesses are used (lua_rawget, lua_next, lua_type), so request
 * content can never run user code or raise; recursion is bounded by the
 * fixed shape of a request, so cycles cannot loop.
 */
#include "validate_int.h"

/*
 * Walk the object at obj once with lua_next. Each key of ks found stays on
 * the stack with its value above it (the walk goes on from a copy of the
 * key), and slots[its index in ks] gets the value's stack index; any other
 * key is recorded as a problem under at (NULL for the request). Leaves two
 * stack slots per key found (the caller makes room for them). Returns one bit
 * per key of ks found.
 */
unsigned sd_walk(sd_vctx *v, int obj, const sd_words *ks, int *slots, const sd_path *at) {
    lua_State *L = v->L;
    unsigned found = 0;
    int top = lua_gettop(L); /* the value of the next key found will be at top + 2 */
    lua_pushnil(L);
    while (lua_next(L, obj) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            size_t len;
            const char *k = lua_tolstring(L, -2, &len);
            int i = sd_words_find(ks, k, len);
            if (i >= 0) { /* a table's keys are distinct: each i is met once */
                top += 2;
                slots[i] = top;
                found |= 1u << i;
                lua_pushvalue(L, top - 1);
                continue;
            }
        }
        lua_pop(L, 1);
        sd_unknown_key(v, at, -1, ks);
    }
    return found;
}

/*
 * Validate the request at idx: leaves the problem list (or nil when there is
 * none) on top of the stack and returns the number of entries. With json, a
 * valid request's JSON text is written in the same walk and left instead of
 * the nil (still nil when the writer declined a value).
 */
static int validate(lua_State *L, int idx, sd_json *json) {
    sd_vctx v = {0};
    int slots[SD_NFIELDS], nil;
    unsigned found;
    v.L = L;
    v.model = NULL;
    idx = sd_absindex(L, idx);
    luaL_checkstack(L, 2 * SD_NFIELDS + 32, "validating a request");
    v.list = lua_gettop(L) + 1;
    nil = v.list + 2;
    lua_settop(L, nil); /* the list, the text's buffer and a nil for absent fields: nil */
    if (json) sd_json_begin(&v, json, v.list + 1);

    found = sd_walk(&v, idx, &SD_REQUEST_KEYS, slots, NULL);
    for (int r = 0; r < SD_NFIELDS; r++) {
        int id = SD_CHECK_ORDER[r], has = found >> id & 1u;
        const sd_field *f = &SD_FIELDS[id];
        if (!has && !f->always) continue;
        if (has) sd_json_key(&v, f);
        f->check(&v, f->name, has ? slots[id] : nil); /* writes the value it checked */
    }
    sd_check_combinations(&v);

    if (sd_json_finish(&v)) lua_replace(L, v.list); /* the text, in place of the nil */
    lua_settop(L, v.list);
    if (v.count > SD_MAX_PROBLEMS) { /* one closing entry sums up the rest */
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "request");
        lua_setfield(L, -2, "field");
        lua_pushfstring(L, "%d more problems not listed", v.count - SD_MAX_PROBLEMS);
        lua_setfield(L, -2, "message");
        lua_rawseti(L, v.list, SD_MAX_PROBLEMS + 1);
        return SD_MAX_PROBLEMS + 1;
    }
    return v.count;
}

int sd_validate_problems(lua_State *L, int idx) {
    int n = validate(L, idx, NULL);
    if (n == 0) lua_pop(L, 1);
    return n;
}

int sd_validate(lua_State *L, int idx) {
    int n = validate(L, idx, NULL);
    if (n == 0) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    return n;
}

int sd_validate_json(lua_State *L, int idx, int *wrote) {
    sd_json json;
    int n = validate(L, idx, &json);
    *wrote = n == 0 && !lua_isnil(L, -1);
    if (n == 0 && !*wrote) lua_pop(L, 1);
    return n;
}
