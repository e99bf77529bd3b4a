/* check.h: validate a submit body with the project's validator (src/validate.c). */
#ifndef EMU_CHECK_H
#define EMU_CHECK_H

#include <stddef.h>
#include <cJSON.h>

/* Number of problems (0 = valid), their text in msg; -1 on an internal failure. */
int emu_check_request(const cJSON *req, char *msg, size_t cap);

/* --model-rules FILE.json: read and try the rules once; -1 with a message in err. */
int emu_load_model_rules(const char *path, char *err, size_t cap);
void emu_free_model_rules(void);

#endif
