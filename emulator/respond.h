/* respond.h: helpers that queue answers on a libmicrohttpd connection. */
#ifndef EMU_RESPOND_H
#define EMU_RESPOND_H

#include <stddef.h>
#include <microhttpd.h>

/* Queue an answer with one optional extra header (h1: v1). */
enum MHD_Result emu_send(struct MHD_Connection *c, unsigned status, const char *type,
                         const char *body, size_t len, const char *h1, const char *v1);
enum MHD_Result emu_send_json(struct MHD_Connection *c, unsigned status, const char *json,
                              const char *h1, const char *v1);
/* The service's error shape: {"error":{"code","message","type"}}. */
enum MHD_Result emu_send_error(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *message, const char *h1, const char *v1);
/* A proxy's HTML page (502) or a truncated JSON body (200). */
enum MHD_Result emu_send_garbage(struct MHD_Connection *c, int html);

#endif
