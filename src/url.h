/*
 * url.h: URLs and HTTP dates as libcurl reads them (core.parse_url, core.getdate).
 */
#ifndef SD_URL_H
#define SD_URL_H

#include <stddef.h>
#include <lua.h>

/* Unix seconds of an HTTP date (s, n bytes, not NUL-terminated), or -1 when it is none. The form
 * every server sends (RFC 9110's IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") is read here, with
 * libcurl's arithmetic; any other form (RFC 850, asctime, odd spacing) goes to curl_getdate. */
long long sd_http_date(const char *s, size_t n);

/* Set core.parse_url and core.getdate in the module table at the top of the stack. */
void sd_url_register(lua_State *L);

#endif
