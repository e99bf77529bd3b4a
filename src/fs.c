/*
 * fs.c: the local file operations the Lua layer needs and plain Lua lacks
 * (core.stat, core.kind, core.read_file, core.probe_dir, core.lock, core.append_sync,
 * core.remove, core.replace, core.random_hex, core.file_id). Every path opened here is
 * opened without following a symbolic link in its last component, so a
 * planted link never redirects a read or a write. The calls themselves are in the platform layer
 * (platform.h); this file and engine_output.c (a download's file) are the
 * only places the core uses them for files.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "fs.h"
#include "platform.h"

#define SD_LOCK_MT "seedance.lock"

/* The short name of an errno value, as the calls below return it. */
static const char *sd_fs_code(int err) {
    return err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : err == EISDIR ? "EISDIR"
         : err == ELOOP ? "ELOOP" : err == ENOSPC ? "ENOSPC" : err == EROFS ? "EROFS"
         : err == ENOTDIR ? "ENOTDIR" : err == EWOULDBLOCK ? "EWOULDBLOCK" : "EIO";
}

/* Push nil, "<path>: <strerror>", "<ENAME>" and return 3. */
static int sd_fs_fail(lua_State *L, const char *path, int err) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, sd_errstr(err));
    lua_pushstring(L, sd_fs_code(err));
    return 3;
}

/* The type name of what stands at a path. */
static const char *sd_fs_type(sd_ftype t) {
    static const char *const names[] = {"file", "directory", "link", "fifo", "character device", "block device",
                                        "socket", "other"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "other";
}

/* core.stat(path[, follow]) -> { type = "file"|"directory"|"link"|"fifo"|..., size = bytes, mode = bits }
 * | nil, message, code. mode is the permission bits (0644 as 420), absent where the system has none
 * (Windows). Without follow a symbolic link is reported as "link", never followed; with it, what it points to. */
static int sd_core_stat(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    int follow = lua_toboolean(L, 2);
    sd_stat st;
    if (sd_path_stat(path, &st, follow) != 0) return sd_fs_fail(L, path, errno);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, sd_fs_type(st.type));
    lua_setfield(L, -2, "type");
    sd_pushbig(L, st.size);
    lua_setfield(L, -2, "size");
    if (st.mode >= 0) {
        lua_pushinteger(L, st.mode);
        lua_setfield(L, -2, "mode");
    }
    return 1;
}

/* core.kind(path[, follow]) -> type, size | nil, code: core.stat's type and size as two values, or
 * nil and its code ("ENOENT", ...) with no message. No table and no string made: what a download's
 * checks ask of each of its files, many times a task, in a host's frame. */
static int sd_core_kind(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    int follow = lua_toboolean(L, 2);
    sd_stat st;
    if (sd_path_stat(path, &st, follow) != 0) {
        int err = errno;
        lua_pushnil(L);
        lua_pushstring(L, sd_fs_code(err));
        return 2;
    }
    lua_pushstring(L, sd_fs_type(st.type));
    sd_pushbig(L, st.size);
    return 2;
}

/* core.file_id(path[, follow]) -> "dev:ino" | nil, message, code. The identity
 * of what stands at path (the file a symbolic link points to when follow is
 * true): two paths name one file when their identities are equal, however
 * they are spelled (./a, a, a hard link, a folder reached through a link). */
static int sd_core_file_id(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    int follow = lua_toboolean(L, 2);
    sd_fileid id;
    char out[40];
    if (sd_path_id(path, follow, &id) != 0) return sd_fs_fail(L, path, errno);
    snprintf(out, sizeof out, "%llx:%llx", id.dev, id.ino);
    lua_pushstring(L, out);
    return 1;
}

/* core.read_file(path, max) -> contents | nil, message, code. Only a regular
 * file, never through a symbolic link; at most max bytes are read. */
static int sd_core_read_file(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    lua_Integer max = luaL_checkinteger(L, 2);
    sd_stat st;
    luaL_Buffer b;
    char *p;
    size_t n = 0;
    sd_file f;
    luaL_argcheck(L, max >= 0 && max <= 64 * 1024 * 1024, 2, "max must be 0 .. 64 MiB");
    f = sd_file_open(path, SD_READ);
    if (f == SD_NOFILE) return sd_fs_fail(L, path, errno);
    if (sd_file_info(f, &st) != 0) {
        int err = errno;
        sd_file_close(f);
        return sd_fs_fail(L, path, err);
    }
    if (st.type != SD_TYPE_FILE) {
        sd_file_close(f);
        return sd_fs_fail(L, path, EISDIR);
    }
    p = malloc((size_t)max + 1);
    if (p == NULL) {
        sd_file_close(f);
        return luaL_error(L, "not enough memory");
    }
    while (n < (size_t)max) {
        size_t got;
        if (sd_file_read(f, p + n, (size_t)max - n, &got) != 0) {
            int err = errno;
            free(p);
            sd_file_close(f);
            return sd_fs_fail(L, path, err);
        }
        if (got == 0) break;
        n += got;
    }
    sd_file_close(f);
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, p, n);
    free(p);
    luaL_pushresult(&b);
    return 1;
}

/* core.probe_dir(dir) -> true | nil, message, code. Whether a new file can be
 * made in dir: creates a uniquely named empty file there and removes it (a
 * real check, where permission bits say nothing, e.g. for root or read-only mounts). */
static int sd_core_probe_dir(lua_State *L) {
    const char *dir = sd_checkcstring(L, 1);
    size_t len = strlen(dir);
    const char *sep = (len > 0 && (dir[len - 1] == '/' || dir[len - 1] == '\\')) ? "" : "/";
    unsigned char r[8];
    char path[4096];
    sd_file f;
    if (sd_random(r, sizeof r) != 0) return sd_fs_fail(L, dir, errno);
    if (snprintf(path, sizeof path, "%s%s.seedance-probe-%02x%02x%02x%02x%02x%02x%02x%02x", dir, sep, r[0], r[1],
                 r[2], r[3], r[4], r[5], r[6], r[7]) >= (int)sizeof path)
        return sd_fs_fail(L, dir, ENAMETOOLONG);
    f = sd_file_open(path, SD_WRITE | SD_CREATE | SD_EXCL | SD_PRIVATE);
    if (f == SD_NOFILE) return sd_fs_fail(L, dir, errno);
    sd_file_close(f);
    sd_path_remove(path);
    lua_pushboolean(L, 1);
    return 1;
}

/*
 * core.append_sync(path, data) -> true | nil, message, code. Appends data with
 * one write to a file opened for appending and syncs it before returning, so a
 * record is either on disk or (torn by a crash) detectably incomplete.
 */
static int sd_core_append_sync(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    sd_file f = sd_file_open(path, SD_APPEND | SD_CREATE);
    if (f == SD_NOFILE) return sd_fs_fail(L, path, errno);
    if (sd_file_write(f, data, len) != 0 || sd_file_sync(f) != 0) {
        int err = errno;
        sd_file_close(f);
        return sd_fs_fail(L, path, err);
    }
    sd_file_close(f);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.remove(path) -> true | nil, message, code. Removes a file, or a
 * symbolic link itself (never what it points to); nothing there is success. */
static int sd_core_remove(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    if (sd_path_remove(path) != 0 && errno != ENOENT) return sd_fs_fail(L, path, errno);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.replace(from, to) -> true | nil, message, code. Renames from to to in
 * one step, replacing a file (or a symbolic link itself) at to: rename on
 * POSIX, MoveFileExW with MOVEFILE_REPLACE_EXISTING on Windows, where
 * os.rename refuses an existing target. */
static int sd_core_replace(lua_State *L) {
    const char *from = sd_checkcstring(L, 1);
    const char *to = sd_checkcstring(L, 2);
    if (sd_path_replace(from, to) != 0) return sd_fs_fail(L, from, errno);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.absolute(path) -> the absolute path | nil, message, code: path resolved against the current
 * working directory now (links are not resolved), so a later chdir of the host changes nothing. */
static int sd_core_absolute(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    char *full = NULL;
    if (sd_path_absolute(path, &full) != 0) return sd_fs_fail(L, path, errno);
    lua_pushstring(L, full);
    free(full);
    return 1;
}

/* core.random_hex(n) -> 2n hex digits from the system's random source. */
static int sd_core_random_hex(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    unsigned char bytes[64];
    char hex[129];
    size_t i;
    luaL_argcheck(L, n >= 1 && n <= 64, 1, "1 .. 64 bytes");
    if (sd_random(bytes, (size_t)n) != 0) return luaL_error(L, "random bytes: %s", sd_errstr(errno));
    for (i = 0; i < (size_t)n; i++) {
        hex[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
    }
    lua_pushlstring(L, hex, 2 * (size_t)n);
    return 1;
}

/* ---- core.lock(path): one process (one holder) per file ---------------- */

/* The lock userdata: the open file holding the lock, SD_NOFILE once released. */
typedef struct sd_lock {
    sd_file f; /* file with the lock, or SD_NOFILE */
} sd_lock;

/* core.lock(path) -> lock | nil, message, code. Opens (creating) path and
 * takes an exclusive, non-blocking lock on it: a second holder, in this or
 * another process, gets nil, "<path>: held by another process", "EWOULDBLOCK".
 * The lock lasts until lock:unlock(), its collection, or the process's end. */
static int sd_core_lock(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    sd_stat st;
    sd_lock *k = (sd_lock *)lua_newuserdata(L, sizeof *k);
    k->f = SD_NOFILE; /* born released */
    luaL_getmetatable(L, SD_LOCK_MT);
    lua_setmetatable(L, -2);
    /* read (a journal reads what it holds) and append (its records go to the end) through this one open */
    k->f = sd_file_open(path, SD_READ | SD_APPEND | SD_CREATE);
    if (k->f == SD_NOFILE) return sd_fs_fail(L, path, errno);
    if (sd_file_info(k->f, &st) != 0 || st.type != SD_TYPE_FILE) {
        sd_file_close(k->f);
        k->f = SD_NOFILE;
        lua_pushnil(L);
        lua_pushfstring(L, "%s: not a regular file", path);
        lua_pushliteral(L, "EISDIR");
        return 3;
    }
    if (sd_file_lock(k->f) != 0) {
        int err = errno;
        sd_file_close(k->f);
        k->f = SD_NOFILE;
        if (err != EWOULDBLOCK) return sd_fs_fail(L, path, err);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: held by another process (or another client in this one)", path);
        lua_pushliteral(L, "EWOULDBLOCK");
        return 3;
    }
    return 1;
}

sd_file sd_lock_handle(lua_State *L, int idx) {
    sd_lock *k = (sd_lock *)sd_testudata(L, idx, SD_LOCK_MT);
    return k != NULL ? k->f : SD_NOFILE;
}

/* lock:unlock(), __gc, __close: release; safe to call twice. */
static int sd_lock_unlock(lua_State *L) {
    sd_lock *k = (sd_lock *)luaL_checkudata(L, 1, SD_LOCK_MT);
    if (k->f != SD_NOFILE) {
        sd_file_close(k->f); /* closing the only open file releases the lock */
        k->f = SD_NOFILE;
    }
    return 0;
}

static const luaL_Reg sd_fs_funcs[] = {
    {"stat", sd_core_stat},
    {"kind", sd_core_kind},
    {"file_id", sd_core_file_id},
    {"read_file", sd_core_read_file},
    {"probe_dir", sd_core_probe_dir},
    {"append_sync", sd_core_append_sync},
    {"remove", sd_core_remove},
    {"replace", sd_core_replace},
    {"random_hex", sd_core_random_hex},
    {"absolute", sd_core_absolute},
    {"lock", sd_core_lock},
    {NULL, NULL}};

static const luaL_Reg sd_lock_meta[] = {
    {"__gc", sd_lock_unlock},
    {"__close", sd_lock_unlock},
    {NULL, NULL}};

void sd_fs_register(lua_State *L) {
    if (luaL_newmetatable(L, SD_LOCK_MT)) {
        sd_setfuncs(L, sd_lock_meta);
        lua_newtable(L);
        lua_pushcfunction(L, sd_lock_unlock);
        lua_setfield(L, -2, "unlock");
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, SD_LOCK_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    sd_setfuncs(L, sd_fs_funcs);
}
