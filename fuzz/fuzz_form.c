/*
 * fuzz_form.c: multipart uploads, from eng:add{form_file = ...} to the bytes
 * on the wire.
 *
 * The multipart body is built by libcurl (curl_mime); what seedance adds is
 * the form_file spec: reading and checking its fields (engine.c), checking
 * the file (stat, regular, readable) and handing name, file, filename and
 * content type to curl_mime (engine_transfer.c). The fuzz bytes choose those
 * four strings (odd bytes: quotes, CR, LF, ';', NUL, invalid UTF-8) and the
 * file: one of a few real files whose names hold such bytes, a folder, or a
 * path made of fuzz bytes. The transfer goes to a small HTTP server in this
 * process on 127.0.0.1, which reads the request and answers 200.
 *
 * Properties (abort() when one fails):
 * - eng:add either raises a caller-mistake message ("bad argument ..."
 *   about the request), or the transfer ends with a result;
 * - a missing or unreadable file, or a folder, ends with ok = false and
 *   kind = "file", before any byte is sent;
 * - a request that reaches the server is one multipart/form-data part whose
 *   header lines are only Content-Disposition and Content-Type, each one
 *   line (no CR or LF smuggled in from a name, filename or content type),
 *   followed by exactly the file's bytes;
 * - nothing leaks (LeakSanitizer at exit; the engine is closed per input).
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK: this harness is Linux-only */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_seedance_core(lua_State *L);

/* The file every upload carries. */
static const char CONTENT[] = "\x89PNG\r\n\x1a\n--fuzz-data--\r\n\0tail";
#define CONTENT_LEN (sizeof CONTENT - 1)

/* Real files with odd names (made at start-up), then a folder. */
static const char *const NAMES[] = {"plain.png", "sp ace \"q\";x=1.png", "nl\nname.png", "cr\rname.png",
                                    "\xff\xfe.png", "semi;colon.png", "%22quoted%0D.png"};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

static lua_State *L;       /* the state with seedance.core */
static char dir[64];       /* folder of the test files */
static int listen_fd = -1; /* the server's socket */
static int port;           /* its port */
static int check_content;  /* the upload must carry exactly CONTENT (one of our files) */

/* Reading the fuzz bytes. */
typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t rd_u8(reader *r) {
    uint8_t b = 0;
    if (r->n > 0) {
        b = *r->p++;
        r->n--;
    }
    return b;
}

/* Push a string of the next n bytes (n from the input, at most 64). */
static void push_bytes(reader *r) {
    size_t n = rd_u8(r) % 65;
    if (n > r->n) n = r->n;
    lua_pushlstring(L, (const char *)r->p, n);
    r->p += n;
    r->n -= n;
}

static void die(const char *what) {
    fprintf(stderr, "fuzz_form: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/seedance-fuzz-form-%ld", (long)getpid());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) die("cannot make the test folder");
    for (size_t i = 0; i < NNAMES; i++) {
        char path[256];
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", dir, NAMES[i]);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(CONTENT, 1, CONTENT_LEN, f) != CONTENT_LEN || fclose(f) != 0) die("cannot write a test file");
    }
    {
        char sub[128];
        snprintf(sub, sizeof sub, "%s/folder.png", dir);
        mkdir(sub, 0700);
    }
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(listen_fd, 16) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&a, &alen) != 0)
        die("cannot listen on 127.0.0.1");
    port = ntohs(a.sin_port);
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "seedance.core", luaopen_seedance_core, 0);
    lua_setglobal(L, "core");
    return 0;
}

/* The server's one connection: the request read so far. */
typedef struct {
    int fd;        /* accepted socket, -1 when none */
    char *req;     /* bytes received */
    size_t len, cap;
    int answered;  /* the answer went out */
} conn;

/* Find needle in hay[0..n). */
static const char *find(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0 || n < m) return NULL;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return hay + i;
    return NULL;
}

/* Whether the request is complete; *body and *blen are set when it is. */
static int request_complete(const conn *c, const char **body, size_t *blen) {
    const char *end = find(c->req, c->len, "\r\n\r\n", 4), *cl;
    long want;
    if (end == NULL) return 0;
    cl = find(c->req, (size_t)(end - c->req), "\r\nContent-Length: ", 18);
    if (cl == NULL) die("upload without Content-Length");
    want = strtol(cl + 18, NULL, 10);
    *body = end + 4;
    *blen = c->len - (size_t)(*body - c->req);
    return *blen >= (size_t)want;
}

/* Check one multipart request: a single part, clean header lines, the file's bytes. */
static void check_upload(const conn *c, const char *body, size_t blen) {
    const char *ct = find(c->req, c->len, "Content-Type: multipart/form-data; boundary=", 44), *eol;
    char delim[128], closing[132];
    const char *part, *phead_end, *next, *line;
    int lines = 0;
    if (ct == NULL) die("upload is not multipart/form-data");
    eol = find(ct, c->len - (size_t)(ct - c->req), "\r\n", 2);
    if (eol == NULL || eol - (ct + 44) > 100) die("bad boundary");
    snprintf(delim, sizeof delim, "--%.*s\r\n", (int)(eol - (ct + 44)), ct + 44);
    snprintf(closing, sizeof closing, "\r\n--%.*s--\r\n", (int)(eol - (ct + 44)), ct + 44);
    if (blen < strlen(delim) || memcmp(body, delim, strlen(delim)) != 0) die("body does not start with the boundary");
    part = body + strlen(delim);
    phead_end = find(part, blen - (size_t)(part - body), "\r\n\r\n", 4);
    if (phead_end == NULL) die("part without a header end");
    for (line = part; line < phead_end + 2;) {
        const char *le = find(line, (size_t)(phead_end + 2 - line), "\r\n", 2);
        size_t n = (size_t)(le - line);
        if (memchr(line, '\r', n) || memchr(line, '\n', n)) die("a part header line holds CR or LF");
        if (!(n >= 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) &&
            !(n >= 13 && strncasecmp(line, "Content-Type:", 13) == 0)) {
            fprintf(stderr, "fuzz_form: unexpected part header line: %.*s\n", (int)n, line);
            abort();
        }
        lines++;
        line = le + 2;
    }
    if (lines < 1 || lines > 2) die("part header lines: not 1 or 2");
    next = phead_end + 4;
    if (!check_content) return;
    if ((size_t)(body + blen - next) != CONTENT_LEN + strlen(closing) || memcmp(next, CONTENT, CONTENT_LEN) != 0 ||
        memcmp(next + CONTENT_LEN, closing, strlen(closing)) != 0)
        die("the part's data is not exactly the file, followed by the closing boundary");
}

/* Serve: accept, read, answer. Never blocks. */
static void serve(conn *c) {
    if (c->fd < 0) {
        c->fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c->fd < 0) return;
    }
    for (;;) {
        ssize_t n;
        if (c->cap - c->len < 4096) {
            c->cap = c->cap ? c->cap * 2 : 16384;
            c->req = realloc(c->req, c->cap);
            if (c->req == NULL) die("out of memory");
        }
        n = read(c->fd, c->req + c->len, c->cap - c->len);
        if (n <= 0) break;
        c->len += (size_t)n;
    }
    if (!c->answered) {
        const char *body;
        size_t blen;
        if (request_complete(c, &body, &blen)) {
            static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                         "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
            check_upload(c, body, blen);
            if (write(c->fd, answer, sizeof answer - 1) != (ssize_t)(sizeof answer - 1)) die("cannot answer");
            c->answered = 1;
        }
    }
}

/* Call eng:<method>(arg) on the engine at index 1; results stay on the stack. */
static void call(const char *method, int nargs, int nres) {
    lua_getfield(L, 1, method);
    lua_insert(L, -1 - nargs);
    lua_pushvalue(L, 1);
    lua_insert(L, -1 - nargs);
    if (lua_pcall(L, nargs + 1, nres, 0) != LUA_OK) {
        fprintf(stderr, "fuzz_form: eng:%s raised: %s\n", method, lua_tostring(L, -1));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size};
    uint8_t pick = rd_u8(&r), flags = rd_u8(&r);
    char path[256], url[64];
    int file_ok = 0;
    conn c = {-1, NULL, 0, 0, 0};
    struct timespec t0, t;

    lua_settop(L, 0);
    lua_getglobal(L, "core");
    lua_getfield(L, -1, "engine");
    lua_remove(L, -2);
    lua_call(L, 0, 1); /* 1: the engine */

    /* the request: { method, url, form_file = { name, path, filename?, content_type? } } */
    lua_getfield(L, 1, "add");
    lua_pushvalue(L, 1);
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "POST");
    lua_setfield(L, -2, "method");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/upload", port);
    lua_pushstring(L, url);
    lua_setfield(L, -2, "url");
    lua_pushnumber(L, 5);
    lua_setfield(L, -2, "timeout");
    lua_createtable(L, 0, 4);
    if (flags & 1) push_bytes(&r); else lua_pushliteral(L, "file");
    lua_setfield(L, -2, "name");
    if (pick % 10 < NNAMES) {
        snprintf(path, sizeof path, "%s/%s", dir, NAMES[pick % 10]);
        lua_pushstring(L, path);
        file_ok = 1;
    } else if (pick % 10 == NNAMES) {
        snprintf(path, sizeof path, "%s/folder.png", dir);
        lua_pushstring(L, path);
    } else {
        struct stat st;
        size_t n;
        const char *p;
        push_bytes(&r); /* a path of fuzz bytes: mostly no such file, or a NUL inside */
        p = lua_tolstring(L, -1, &n);
        /* a fuzz path may name a real file (/etc/hostname): it uploads, unchecked */
        file_ok = strlen(p) == n && stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
    }
    check_content = pick % 10 < NNAMES;
    lua_setfield(L, -2, "path");
    if (flags & 2) {
        push_bytes(&r);
        lua_setfield(L, -2, "filename");
    }
    if (flags & 4) {
        push_bytes(&r);
        lua_setfield(L, -2, "content_type");
    }
    lua_setfield(L, -2, "form_file");
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        /* called from C the function has no name: "bad argument #2 to '?' (...)" */
        if (msg == NULL || strncmp(msg, "bad argument #2 to ", 19) != 0) {
            fprintf(stderr, "fuzz_form: eng:add raised something other than a caller mistake: %s\n",
                    msg ? msg : "(not a string)");
            abort();
        }
        call("close", 0, 0);
        lua_settop(L, 0);
        return 0;
    }
    lua_pop(L, 1);

    /* step and serve until the result arrives */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        lua_pushinteger(L, 1);
        call("step", 1, 1);
        lua_pop(L, 1);
        serve(&c);
        call("next", 0, 1);
        if (!lua_isnil(L, -1)) break;
        lua_pop(L, 1);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10) die("no result within 10 s");
    }
    lua_getfield(L, -1, "ok");
    lua_getfield(L, -2, "kind");
    lua_getfield(L, -3, "status");
    if (!file_ok) {
        if (lua_toboolean(L, -3) || lua_tostring(L, -2) == NULL || strcmp(lua_tostring(L, -2), "file") != 0)
            die("an upload of a missing file or a folder did not fail with kind 'file'");
        if (c.len != 0) die("an upload of a missing file sent bytes");
    } else if (lua_toboolean(L, -3)) {
        if (lua_tointeger(L, -1) != 200 || !c.answered) die("ok without the server's answer");
    }
    call("close", 0, 0);
    if (c.fd >= 0) close(c.fd);
    free(c.req);
    lua_settop(L, 0);
    return 0;
}
