/*
 * fs.c: the local file operations the Lua layer needs and plain Lua lacks
 * (core.stat, core.read_file, core.probe_dir, core.lock, core.append_sync,
 * core.random_hex). Every path opened here is opened without following a
 * symbolic link in its last component, so a planted link never redirects a
 * read or a write. This file and engine_transfer.c's output file are the only
 * places the core touches the file system (the platform layer for files).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "fs.h"

#define SD_LOCK_MT "seedance.lock"

/* Push nil, "<path>: <strerror>", "<ENAME>" and return 3. */
static int sd_fs_fail(lua_State *L, const char *path, int err) {
    const char *code = err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : err == EISDIR ? "EISDIR"
                     : err == ELOOP ? "ELOOP" : err == ENOSPC ? "ENOSPC" : err == EROFS ? "EROFS"
                     : err == ENOTDIR ? "ENOTDIR" : err == EWOULDBLOCK ? "EWOULDBLOCK" : "EIO";
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(err));
    lua_pushstring(L, code);
    return 3;
}

/* The type name of a stat mode. */
static const char *sd_fs_type(mode_t m) {
    if (S_ISREG(m)) return "file";
    if (S_ISDIR(m)) return "directory";
    if (S_ISLNK(m)) return "link";
    if (S_ISFIFO(m)) return "fifo";
    if (S_ISCHR(m)) return "character device";
    if (S_ISBLK(m)) return "block device";
    if (S_ISSOCK(m)) return "socket";
    return "other";
}

/* core.stat(path) -> { type = "file"|"directory"|"link"|"fifo"|..., size = bytes } | nil, message, code.
 * lstat: a symbolic link is reported as "link", never followed. */
static int sd_core_stat(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (lstat(path, &st) != 0) return sd_fs_fail(L, path, errno);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, sd_fs_type(st.st_mode));
    lua_setfield(L, -2, "type");
    sd_pushbig(L, (long long)st.st_size);
    lua_setfield(L, -2, "size");
    return 1;
}

/* core.read_file(path, max) -> contents | nil, message, code. Only a regular
 * file, never through a symbolic link; at most max bytes are read. */
static int sd_core_read_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_Integer max = luaL_checkinteger(L, 2);
    struct stat st;
    luaL_Buffer b;
    char *p;
    ssize_t n;
    int fd;
    luaL_argcheck(L, max >= 0 && max <= 64 * 1024 * 1024, 2, "max must be 0 .. 64 MiB");
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return sd_fs_fail(L, path, errno);
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return sd_fs_fail(L, path, err);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sd_fs_fail(L, path, EISDIR);
    }
    p = malloc((size_t)max + 1);
    if (p == NULL) {
        close(fd);
        return luaL_error(L, "not enough memory");
    }
    n = 0;
    while (n < (ssize_t)max) {
        ssize_t r = read(fd, p + n, (size_t)max - (size_t)n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int err = errno;
            free(p);
            close(fd);
            return sd_fs_fail(L, path, err);
        }
        if (r == 0) break;
        n += r;
    }
    close(fd);
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, p, (size_t)n);
    free(p);
    luaL_pushresult(&b);
    return 1;
}

/* core.probe_dir(dir) -> true | nil, message, code. Whether a new file can be
 * made in dir: creates a uniquely named empty file there and removes it (a
 * real check, where permission bits say nothing, e.g. for root or read-only mounts). */
static int sd_core_probe_dir(lua_State *L) {
    const char *dir = luaL_checkstring(L, 1);
    char path[4096];
    struct timespec ts;
    int fd;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (snprintf(path, sizeof path, "%s/.seedance-probe-%ld-%ld", dir, (long)getpid(), (long)ts.tv_nsec) >=
        (int)sizeof path)
        return sd_fs_fail(L, dir, ENAMETOOLONG);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return sd_fs_fail(L, dir, errno);
    close(fd);
    unlink(path);
    lua_pushboolean(L, 1);
    return 1;
}

/*
 * core.append_sync(path, data) -> true | nil, message, code. Appends data with
 * one write to a file opened O_APPEND and fsyncs it before returning, so a
 * record is either on disk or (torn by a crash) detectably incomplete.
 */
static int sd_core_append_sync(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    size_t len, done = 0;
    const char *data = luaL_checklstring(L, 2, &len);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return sd_fs_fail(L, path, errno);
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0) {
            int err = errno;
            if (err == EINTR) continue;
            close(fd);
            return sd_fs_fail(L, path, err);
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) {
        int err = errno;
        close(fd);
        return sd_fs_fail(L, path, err);
    }
    close(fd);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.random_hex(n) -> 2n hex digits from the system's random source (getrandom). */
static int sd_core_random_hex(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    unsigned char bytes[64];
    char hex[129];
    size_t got = 0, i;
    luaL_argcheck(L, n >= 1 && n <= 64, 1, "1 .. 64 bytes");
    while (got < (size_t)n) {
        ssize_t r = getrandom(bytes + got, (size_t)n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return luaL_error(L, "getrandom: %s", strerror(errno));
        got += (size_t)r;
    }
    for (i = 0; i < (size_t)n; i++) snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
    lua_pushlstring(L, hex, 2 * (size_t)n);
    return 1;
}

/* ---- core.lock(path): one process (one holder) per file ---------------- */

/* The lock userdata: the open descriptor holding the lock, -1 once released. */
typedef struct sd_lock {
    int fd; /* descriptor with the flock, or -1 */
} sd_lock;

/* core.lock(path) -> lock | nil, message, code. Opens (creating) path and
 * takes an exclusive, non-blocking flock on it: a second holder, in this or
 * another process, gets nil, "<path>: held by another process", "EWOULDBLOCK".
 * The lock lasts until lock:unlock(), its collection, or the process's end. */
static int sd_core_lock(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    sd_lock *k = (sd_lock *)lua_newuserdata(L, sizeof *k);
    k->fd = -1; /* born released */
    luaL_getmetatable(L, SD_LOCK_MT);
    lua_setmetatable(L, -2);
    k->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (k->fd < 0) return sd_fs_fail(L, path, errno);
    if (fstat(k->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(k->fd);
        k->fd = -1;
        lua_pushnil(L);
        lua_pushfstring(L, "%s: not a regular file", path);
        lua_pushliteral(L, "EISDIR");
        return 3;
    }
    if (flock(k->fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(k->fd);
        k->fd = -1;
        if (err != EWOULDBLOCK) return sd_fs_fail(L, path, err);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: held by another process (or another client in this one)", path);
        lua_pushliteral(L, "EWOULDBLOCK");
        return 3;
    }
    return 1;
}

/* lock:unlock(), __gc, __close: release; safe to call twice. */
static int sd_lock_unlock(lua_State *L) {
    sd_lock *k = (sd_lock *)luaL_checkudata(L, 1, SD_LOCK_MT);
    if (k->fd >= 0) {
        close(k->fd); /* closing the only descriptor releases the flock */
        k->fd = -1;
    }
    return 0;
}

static const luaL_Reg sd_fs_funcs[] = {
    {"stat", sd_core_stat},
    {"read_file", sd_core_read_file},
    {"probe_dir", sd_core_probe_dir},
    {"append_sync", sd_core_append_sync},
    {"random_hex", sd_core_random_hex},
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
