/* moderation.h: scripted content-moderation faults (--refuse-word, --flag-word; moderation.c). */
#ifndef EMU_MODERATION_H
#define EMU_MODERATION_H

#include <stddef.h>
#include <cJSON.h>

#define EMU_MODERATION_WORDS 16 /* words of both flags together, at most */
#define EMU_CODE_MAX 72         /* bytes of a --flag-word code, its NUL included */

/* Take one --refuse-word WORD (refuse = 1) or --flag-word WORD=CODE (0); -1 when it is not one. */
int emu_moderation_option(int refuse, const char *arg);

/* Whether a submit is refused; then body gets the 400 answer naming the input. */
int emu_refused(const cJSON *req, char *body, size_t cap);

/* The flag (1-based) a task is made with, 0 for none; where gets the input it was met in. */
int emu_flagged(const cJSON *req, char *where, size_t cap);

/* The native code of a flag. */
const char *emu_flag_code(int flag);

/* The service's message for a moderation code met at `where`. */
void emu_moderation_message(const char *code, const char *where, char *out, size_t cap);

#endif
