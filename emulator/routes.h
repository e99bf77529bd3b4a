/* routes.h: the libmicrohttpd callbacks. */
#ifndef EMU_ROUTES_H
#define EMU_ROUTES_H

#include <microhttpd.h>

enum MHD_Result emu_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload_data, size_t *upload_data_size,
                            void **con_cls);
void emu_request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe);

#endif
