/*
 * fuzz_emu_request.c: the emulator's readers of request headers, paths and
 * the query (emulator/parse.c). The first byte picks one; the rest is its
 * input, copied into an allocation of exactly its length plus the NUL:
 *
 *   'A' Authorization (emu_bearer_parse): the key is the value after
 *       "Bearer" (any case) and its spaces, exactly, 1 to 255 bytes of
 *       visible ASCII, never cut; -1 when such bytes follow but are longer
 *       or other; 0 for any other scheme or no key.
 *   'I' Idempotency-Key (emu_idem_check): 1 for 1 to 127 bytes, -1 past 127,
 *       0 when empty.
 *   'R' a method and a path (emu_route, emu_task_id_valid): '0' to '3' pick
 *       GET, HEAD, POST, PUT and the path follows; otherwise the method is
 *       the bytes up to the first space, the path the rest. Each route only
 *       for its method and path; a poll's id is the path after /v1/tasks/,
 *       not empty; a valid id is "task_" and 26 Crockford letters.
 *   'M' a media name (emu_media_name): the id and the extension give the
 *       name back; the id fits its buffer.
 *   'L' ?language= (emu_lang_index): 0 to 3, not 0 only for zh, ko, ja.
 *   anything else: every reader in turn on the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu.h"
#include "parse.h"

static void fail(const char *what, const char *in) {
    fprintf(stderr, "request: %s: '%s'\n", what, in);
    abort();
}

static void bearer(const char *h) {
    char key[EMU_KEY_MAX + 1];
    int n = emu_bearer_parse(h, key, sizeof key);
    size_t skip, len, vis;
    int scheme = strncasecmp(h, "Bearer", 6) == 0 && (h[6] == ' ' || h[6] == '\0');
    if (!scheme) {
        if (n != 0 || key[0]) fail("bearer: a key from another scheme", h);
        return;
    }
    skip = 6 + strspn(h + 6, " ");
    len = strlen(h + skip);
    for (vis = 0; vis < len && (unsigned char)h[skip + vis] > 0x20 && (unsigned char)h[skip + vis] < 0x7F; vis++) {}
    int want = len == 0 ? 0 : (vis < len || len > EMU_KEY_MAX) ? -1 : (int)len;
    if (n != want) fail("bearer: wrong answer", h);
    if (n > 0 && (strlen(key) != (size_t)n || memcmp(key, h + skip, (size_t)n) != 0)) fail("bearer: not the key", h);
    if (n <= 0 && key[0]) fail("bearer: a key with a refusal", h);
}

static void idem(const char *h) {
    size_t len = strlen(h);
    int want = len == 0 ? 0 : len > EMU_IDEM_MAX ? -1 : 1;
    if (emu_idem_check(h) != want) fail("idempotency key: wrong answer", h);
    if (emu_idem_check(NULL) != 0) fail("idempotency key: none is not 0", h);
}

static void route(const char *method, const char *url) {
    const char *id = url;
    int r = emu_route(method, url, &id);
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (r < 0 || r >= EMU_ROUTES) fail("route: out of range", url);
    if (r == EMU_ROUTE_POLL) {
        if (!get || strncmp(url, "/v1/tasks/", 10) != 0 || id != url + 10 || !*id) fail("route: bad poll", url);
    } else if (id != NULL) {
        fail("route: an id outside a poll", url);
    }
    if ((r == EMU_ROUTE_SUBMIT) != (post && !strcmp(url, "/v1/videos/generations"))) fail("route: submit", url);
    if ((r == EMU_ROUTE_UPLOAD) != (post && !strcmp(url, "/v1/uploads/images"))) fail("route: upload", url);
    if ((r == EMU_ROUTE_BALANCE) != (get && !strcmp(url, "/v1/balance"))) fail("route: balance", url);
    /* any string may be asked as a task id */
    int valid = emu_task_id_valid(url);
    if (valid && (strlen(url) != 31 || strncmp(url, "task_", 5) != 0 ||
                  strspn(url + 5, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != 26))
        fail("task id: accepted a bad id", url);
    if (!valid && strlen(url) == 31 && strncmp(url, "task_", 5) == 0 &&
        strspn(url + 5, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == 26)
        fail("task id: refused a good id", url);
}

static void media(const char *name) {
    char id[64], back[128];
    int png = -1;
    if (emu_media_name(name, id, sizeof id, &png) != 0) return;
    if (png != 0 && png != 1) fail("media: png unset", name);
    if (strlen(id) >= sizeof id) fail("media: id past its buffer", name);
    snprintf(back, sizeof back, "%s.%s", id, png ? "png" : "mp4");
    if (strcmp(back, name) != 0) fail("media: the name does not come back", name);
}

static void lang(const char *l) {
    int i = emu_lang_index(l);
    int want = !strcmp(l, "zh") ? 1 : !strcmp(l, "ko") ? 2 : !strcmp(l, "ja") ? 3 : 0;
    if (i != want || emu_lang_index(NULL) != 0) fail("language: wrong index", l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static const char *const methods[4] = {"GET", "HEAD", "POST", "PUT"};
    char *s, *method, *url;
    if (n == 0) return 0;
    s = malloc(n); /* the rest and its NUL: exactly */
    if (!s) return 0;
    memcpy(s, data + 1, n - 1);
    s[n - 1] = '\0';
    switch (data[0]) {
    case 'A': bearer(s); break;
    case 'I': idem(s); break;
    case 'M': media(s); break;
    case 'L': lang(s); break;
    case 'R':
        if (n >= 2 && s[0] >= '0' && s[0] <= '3') {
            route(methods[s[0] - '0'], s + 1);
        } else {
            url = strchr(s, ' ');
            method = s;
            if (url) *url++ = '\0';
            route(method, url ? url : "");
        }
        break;
    default:
        bearer(s);
        idem(s);
        media(s);
        lang(s);
        route("GET", s);
        break;
    }
    free(s);
    return 0;
}
