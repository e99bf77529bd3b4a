/*
 * escape.c: untrusted bytes into a JSON answer (a task id from the path, an
 * upload's filename, a field name the validator quotes): always valid JSON
 * in valid UTF-8, cut only between characters (parse.h).
 */
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "utf8.h"

size_t emu_json_escape(char *dst, size_t cap, const char *src) {
    size_t n = 0, i = 0, len = strlen(src);
    if (cap == 0) return 0;
    while (i < len) {
        size_t count, run;
        /* src[i, i + run) is well-formed UTF-8; src[i + run] (if any) is not */
        if (sd_utf8_count(src + i, len - i, &count, &run)) run = len - i;
        for (size_t k = 0; k < run;) {
            unsigned char c = (unsigned char)src[i + k];
            size_t need = c == '"' || c == '\\' ? 2 : c < 0x20 ? 6 : c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            if (n + need >= cap) goto full;
            if (c == '"' || c == '\\') {
                dst[n] = '\\';
                dst[n + 1] = (char)c;
            } else if (c < 0x20) {
                snprintf(dst + n, cap - n, "\\u%04x", c);
            } else {
                memcpy(dst + n, src + i + k, need);
            }
            n += need;
            k += c < 0x80 ? 1 : need;
        }
        i += run;
        if (i < len) { /* one byte that is not UTF-8 */
            if (n + 6 >= cap) goto full;
            memcpy(dst + n, "\\ufffd", 6);
            n += 6;
            i++;
        }
    }
full:
    dst[n] = '\0';
    return n;
}
