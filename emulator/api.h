/* api.h: the service's endpoints (the routing and faults are in routes.c). */
#ifndef EMU_API_H
#define EMU_API_H

#include <stddef.h>
#include <microhttpd.h>

/* POST /v1/videos/generations; *after_fault set: make the task, then drop the answer. */
enum MHD_Result emu_submit(struct MHD_Connection *c, const char *key, const char *body, size_t len,
                           int *after_fault);
/* GET /v1/tasks/{id}?language=en|zh|ko|ja */
enum MHD_Result emu_poll(struct MHD_Connection *c, const char *id, const char *lang);
/* GET /v1/balance */
enum MHD_Result emu_balance(struct MHD_Connection *c, const char *key);
/* GET /_emulator/stats */
enum MHD_Result emu_stats_page(struct MHD_Connection *c);
/* POST /_emulator/clock?step=SECONDS (only with --test-clock): the wall clock moves by SECONDS. */
enum MHD_Result emu_clock_step(struct MHD_Connection *c, const char *step);
/* POST /v1/uploads/images (multipart) and GET /uploads/{name} */
enum MHD_Result emu_upload(struct MHD_Connection *c, const char *body, size_t len, int too_big);
enum MHD_Result emu_upload_get(struct MHD_Connection *c, const char *name);
/* GET /media/{task}.mp4|.png */
enum MHD_Result emu_media(struct MHD_Connection *c, const char *name);

#endif
