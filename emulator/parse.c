/*
 * parse.c: the request headers and paths the endpoints read (Range,
 * Authorization, Idempotency-Key, the route and task ids, ?language=), as
 * pure functions (parse.h).
 */
#define _POSIX_C_SOURCE 200809L /* strncasecmp */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "emu.h"
#include "parse.h"

/* 1*DIGIT at *p into *v, saturating at LLONG_MAX (a huge number is still a
 * number); 0 when no digit is there. */
static int digits(const char **p, long long *v) {
    const char *s = *p;
    long long n = 0;
    if (*s < '0' || *s > '9') return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        n = n > (LLONG_MAX - d) / 10 ? LLONG_MAX : n * 10 + d;
    }
    *p = s;
    *v = n;
    return 1;
}

int emu_range_parse(const char *h, long long size, long long *first, long long *last) {
    long long a, b;
    if (!h || strncasecmp(h, "bytes=", 6) != 0) return EMU_RANGE_NONE; /* another unit: ignored */
    h += 6;
    if (strchr(h, ',')) return EMU_RANGE_NONE; /* several ranges: the whole file */
    if (*h == '-') {                           /* suffix: the last b bytes */
        h++;
        if (!digits(&h, &b) || *h || b == 0 || size <= 0) return EMU_RANGE_BAD;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return EMU_RANGE_OK;
    }
    if (!digits(&h, &a) || *h++ != '-') return EMU_RANGE_BAD;
    if (*h) {
        if (!digits(&h, &b) || *h || a > b) return EMU_RANGE_BAD;
    } else {
        b = LLONG_MAX;
    }
    if (a >= size) return EMU_RANGE_BAD; /* unsatisfiable */
    *first = a;
    *last = b >= size ? size - 1 : b;
    return EMU_RANGE_OK;
}

int emu_bearer_parse(const char *h, char *key, size_t cap) {
    size_t n = 0;
    if (cap > 0) key[0] = '\0';
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\0')) return 0;
    h += 6;
    while (*h == ' ') h++;
    if (!*h) return 0;
    while ((unsigned char)h[n] > 0x20 && (unsigned char)h[n] < 0x7F) n++; /* visible ASCII ("<token>" of the reference page too) */
    if (h[n] || n > EMU_KEY_MAX || n >= cap) return -1;
    memcpy(key, h, n);
    key[n] = '\0';
    return (int)n;
}

int emu_idem_check(const char *h) {
    if (!h || !h[0]) return 0;
    return strlen(h) > EMU_IDEM_MAX ? -1 : 1;
}

int emu_route(const char *method, const char *url, const char **id) {
    int post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    *id = NULL;
    if (post && strcmp(url, "/v1/videos/generations") == 0) return EMU_ROUTE_SUBMIT;
    if (get && strncmp(url, "/v1/tasks/", 10) == 0 && url[10]) {
        *id = url + 10;
        return EMU_ROUTE_POLL;
    }
    if (post && strcmp(url, "/v1/uploads/images") == 0) return EMU_ROUTE_UPLOAD;
    if (get && strcmp(url, "/v1/balance") == 0) return EMU_ROUTE_BALANCE;
    return EMU_ROUTE_OTHER;
}

int emu_task_id_valid(const char *id) {
    static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if (strncmp(id, "task_", 5) != 0) return 0;
    for (int i = 5; i < 31; i++)
        if (!id[i] || !strchr(crockford, id[i])) return 0;
    return id[31] == '\0';
}

int emu_media_name(const char *name, char *id, size_t cap, int *png) {
    const char *dot = strrchr(name, '.');
    size_t n;
    if (!dot) return -1;
    if (strcmp(dot, ".png") == 0) *png = 1;
    else if (strcmp(dot, ".mp4") == 0) *png = 0;
    else return -1;
    n = (size_t)(dot - name);
    if (n >= cap) return -1;
    memcpy(id, name, n);
    id[n] = '\0';
    return 0;
}

int emu_lang_index(const char *lang) {
    static const char *const langs[4] = {"en", "zh", "ko", "ja"};
    for (int i = 1; lang && i < 4; i++)
        if (strcmp(lang, langs[i]) == 0) return i;
    return 0;
}
