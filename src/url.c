/*
 * url.c: URLs and HTTP dates as libcurl reads them (core.parse_url,
 * core.getdate). The client decides where a request may go from the parts
 * libcurl's own URL parser (curl_url) finds, and hands libcurl the URL that
 * parser wrote back, so the host checked is the host libcurl connects to.
 */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "compat.h"
#include "url.h"

/* Longest URL accepted (libcurl's own limit is 8 MB; no API or media URL comes near this). */
#define SD_URL_MAX 8192

/* Set t[key] = the part of h (when present) in the table at the top. */
static void sd_url_field(lua_State *L, CURLU *h, CURLUPart part, unsigned int flags, const char *key) {
    char *v = NULL;
    if (curl_url_get(h, part, &v, flags) == CURLUE_OK && v != NULL) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, key);
    }
    curl_free(v);
}

/* Whether h has this part (user, password, login options). */
static int sd_url_has(CURLU *h, CURLUPart part) {
    char *v = NULL;
    int yes = curl_url_get(h, part, &v, 0) == CURLUE_OK && v != NULL;
    curl_free(v);
    return yes;
}

/* Whether the URL s (len bytes) is refused before libcurl reads it (longer than
 * SD_URL_MAX, or holding a NUL byte); when it is, nil and the reason are pushed. */
static int sd_url_refused(lua_State *L, const char *s, size_t len) {
    if (len <= SD_URL_MAX && strlen(s) == len) return 0;
    lua_pushnil(L);
    lua_pushstring(L, len > SD_URL_MAX ? "URL too long" : "URL contains a NUL byte");
    return 1;
}

/*
 * core.parse_url(s[, base]) -> parts | nil, message. With base, s may be
 * relative to it (as a redirect's Location is). parts: url (as libcurl writes it
 * back: IPv4 numbers normalized, dot segments removed), scheme (lowercase),
 * host (IPv6 in brackets; IDN hosts in punycode where libcurl can), port (a
 * number, the scheme's default when none is given), path, query, fragment, zoneid,
 * userinfo (true when user, password or login options are present).
 * Only absolute URLs with a scheme are accepted; no scheme is guessed.
 */
static int sd_core_parse_url(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *base = lua_isnoneornil(L, 2) ? NULL : sd_checkcstring(L, 2);
    CURLU *h;
    CURLUcode rc;
    char *port = NULL, *url = NULL;
    unsigned int host_flags = 0;
    if (sd_url_refused(L, s, len)) return 2;
    h = curl_url();
    if (h == NULL) return luaL_error(L, "not enough memory");
#ifdef CURLU_PUNYCODE
    host_flags = CURLU_PUNYCODE;
#endif
    /* with a base, s may be relative to it (a redirect's Location), resolved as libcurl does */
    rc = base != NULL ? curl_url_set(h, CURLUPART_URL, base, 0) : CURLUE_OK;
    if (rc == CURLUE_OK) rc = curl_url_set(h, CURLUPART_URL, s, 0);
    if (rc == CURLUE_OK) rc = curl_url_get(h, CURLUPART_URL, &url, 0);
    /* a host libcurl cannot spell as it would connect to it (not IDNA-convertible) is no URL to us */
    if (rc == CURLUE_OK) {
        char *host = NULL;
        rc = curl_url_get(h, CURLUPART_HOST, &host, host_flags);
        if (rc == CURLUE_OK && (host == NULL || host[0] == '\0')) rc = CURLUE_NO_HOST;
        curl_free(host);
        if (rc != CURLUE_OK) curl_free(url);
    }
    if (rc != CURLUE_OK) {
        curl_url_cleanup(h);
        lua_pushnil(L);
        lua_pushstring(L, curl_url_strerror(rc));
        return 2;
    }
    lua_createtable(L, 0, 9);
    lua_pushstring(L, url);
    lua_setfield(L, -2, "url");
    curl_free(url);
    sd_url_field(L, h, CURLUPART_SCHEME, 0, "scheme");
    sd_url_field(L, h, CURLUPART_HOST, host_flags, "host");
    sd_url_field(L, h, CURLUPART_PATH, 0, "path");
    sd_url_field(L, h, CURLUPART_QUERY, 0, "query");
    sd_url_field(L, h, CURLUPART_ZONEID, 0, "zoneid");
    sd_url_field(L, h, CURLUPART_FRAGMENT, 0, "fragment");
    if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port != NULL) {
        lua_pushinteger(L, (lua_Integer)strtol(port, NULL, 10));
        lua_setfield(L, -2, "port");
    }
    curl_free(port);
    lua_pushboolean(L, sd_url_has(h, CURLUPART_USER) || sd_url_has(h, CURLUPART_PASSWORD) ||
                           sd_url_has(h, CURLUPART_OPTIONS));
    lua_setfield(L, -2, "userinfo");
    curl_url_cleanup(h);
    return 1;
}

/* Two digits at s, or -1. */
static int sd_date_2(const char *s) {
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Index of the three letters at s in names (case as sent), or -1. */
static int sd_date_name(const char *s, const char *names, int count) {
    int i;
    for (i = 0; i < count; i++)
        if (memcmp(s, names + 3 * i, 3) == 0) return i;
    return -1;
}

/* IMF-fixdate, exactly: "Www, DD Mon YYYY HH:MM:SS GMT" (29 bytes); -1 when s is not one (what
 * curl_getdate then makes of it is its answer). The seconds are libcurl's time2epoch: the same
 * days for a day past its month's end (31 Feb) and for a leap second, as curl_getdate gives. */
static long long sd_fixdate(const char *s, size_t n) {
    static const int cumulative[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int mday, mon, y1, y2, year, hour, min, sec;
    long long leap;
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
        s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
        return -1;
    if (sd_date_name(s, "MonTueWedThuFriSatSun", 7) < 0) return -1;
    mon = sd_date_name(s + 8, "JanFebMarAprMayJunJulAugSepOctNovDec", 12);
    mday = sd_date_2(s + 5);
    y1 = sd_date_2(s + 12);
    y2 = sd_date_2(s + 14);
    hour = sd_date_2(s + 17);
    min = sd_date_2(s + 20);
    sec = sd_date_2(s + 23);
    if (mon < 0 || mday < 1 || mday > 31 || y1 < 0 || y2 < 0 || hour < 0 || hour > 23 || min < 0 || min > 59 ||
        sec < 0 || sec > 60)
        return -1;
    year = y1 * 100 + y2;
    if (year < 1970) return -1;
    leap = year - (mon <= 1);
    leap = leap / 4 - leap / 100 + leap / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
    return ((((long long)(year - 1970) * 365 + leap + cumulative[mon] + mday - 1) * 24 + hour) * 60 + min) * 60 +
           sec;
}

long long sd_http_date(const char *s, size_t n) {
    char v[129];
    time_t t;
    long long d = sd_fixdate(s, n);
    if (d >= 0) return d;
    if (n == 0 || n >= sizeof v || memchr(s, '\0', n) != NULL) return -1;
    memcpy(v, s, n);
    v[n] = '\0';
    t = curl_getdate(v, NULL);
    return t == (time_t)-1 ? -1 : (long long)t;
}

/*
 * core.parse_redis_url(s) -> parts | nil, message: a journal's redis:// or rediss:// URL as
 * libcurl reads it (a scheme it does not speak itself): scheme, host (IPv6 without brackets),
 * port (nil when none is given), path, query, user and password (percent-decoded; nil when absent).
 */
static int sd_core_parse_redis_url(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    CURLU *h;
    CURLUcode rc;
    char *host = NULL, *port = NULL;
    if (sd_url_refused(L, s, len)) return 2;
    h = curl_url();
    if (h == NULL) return luaL_error(L, "not enough memory");
    rc = curl_url_set(h, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME);
    if (rc == CURLUE_OK) rc = curl_url_get(h, CURLUPART_HOST, &host, 0);
    if (rc == CURLUE_OK && (host == NULL || host[0] == '\0')) rc = CURLUE_NO_HOST;
    if (rc != CURLUE_OK) {
        curl_free(host);
        curl_url_cleanup(h);
        lua_pushnil(L);
        lua_pushstring(L, curl_url_strerror(rc));
        return 2;
    }
    lua_createtable(L, 0, 7);
    if (host[0] == '[') { /* an IPv6 address, as a resolver takes it */
        size_t n = strlen(host);
        lua_pushlstring(L, host + 1, n > 2 ? n - 2 : 0);
    } else {
        lua_pushstring(L, host);
    }
    lua_setfield(L, -2, "host");
    curl_free(host);
    sd_url_field(L, h, CURLUPART_SCHEME, 0, "scheme");
    sd_url_field(L, h, CURLUPART_PATH, CURLU_URLDECODE, "path");
    sd_url_field(L, h, CURLUPART_QUERY, 0, "query");
    sd_url_field(L, h, CURLUPART_USER, CURLU_URLDECODE, "user");
    sd_url_field(L, h, CURLUPART_PASSWORD, CURLU_URLDECODE, "password");
    if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK && port != NULL) {
        lua_pushinteger(L, (lua_Integer)strtol(port, NULL, 10));
        lua_setfield(L, -2, "port");
    }
    curl_free(port);
    curl_url_cleanup(h);
    return 1;
}

/* core.getdate(s) -> unix seconds of an HTTP date in any of its three forms
 * (RFC 1123, RFC 850, asctime), as libcurl's curl_getdate reads it; nil when it is none. */
static int sd_core_getdate(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    long long t = len > 128 ? -1 : sd_http_date(s, len);
    if (t < 0) lua_pushnil(L);
    else sd_pushbig(L, t);
    return 1;
}

static const luaL_Reg sd_url_funcs[] = {
    {"parse_url", sd_core_parse_url},
    {"parse_redis_url", sd_core_parse_redis_url},
    {"getdate", sd_core_getdate},
    {NULL, NULL}};

void sd_url_register(lua_State *L) {
    sd_setfuncs(L, sd_url_funcs);
}
