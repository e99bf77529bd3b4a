/* respond.c: building answers: error bodies (messages escaped by escape.c), faults' garbage. */
#include <stdio.h>
#include <string.h>

#include "emu.h"
#include "parse.h"
#include "respond.h"

enum MHD_Result emu_send(struct MHD_Connection *c, unsigned status, const char *type,
                         const char *body, size_t len, const char *h1, const char *v1) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;
    char date[64];
    if (!r) return MHD_NO;
    emu_http_date(date, sizeof date);
    MHD_add_response_header(r, "Date", date);
    MHD_add_response_header(r, "Content-Type", type);
    if (h1) MHD_add_response_header(r, h1, v1);
    ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result emu_send_json(struct MHD_Connection *c, unsigned status, const char *json,
                              const char *h1, const char *v1) {
    return emu_send(c, status, "application/json", json, strlen(json), h1, v1);
}

enum MHD_Result emu_send_error(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *message, const char *h1, const char *v1) {
    char esc[2048], body[2300];
    emu_json_escape(esc, sizeof esc, message);
    snprintf(body, sizeof body, "{\"error\":{\"code\":%u,\"message\":\"%s\",\"type\":\"%s\"}}",
             status, esc, type);
    return emu_send_json(c, status, body, h1, v1);
}

enum MHD_Result emu_send_garbage(struct MHD_Connection *c, int html) {
    static const char page[] =
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        "</h1></center><hr><center>nginx</center></body></html>\n";
    static const char cut[] = "{\"code\":200,\"data\":{\"id\":\"task_01KMCGF6BQ";
    if (html) return emu_send(c, 502, "text/html", page, sizeof page - 1, NULL, NULL);
    return emu_send(c, 200, "application/json", cut, sizeof cut - 1, NULL, NULL);
}
