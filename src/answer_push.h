/* answer_push.h: a clean task answer's fields pushed to Lua (answer_push.c). */
#ifndef SD_ANSWER_PUSH_H
#define SD_ANSWER_PUSH_H

#include <lauxlib.h>
#include <lua.h>

#include "answer.h"

/*
 * Push the fields of a clean task answer as Task:_set takes them: status,
 * progress (a whole percent, 0..100), estimated_time, created, completed,
 * actual_time, the result's JSON text, video_url (false: set to none),
 * expires_at, last_frame_url (false: none), the error { code, message, type }
 * (nil when a field is absent). Returns 11, the number pushed.
 */
int sd_answer_push_task(lua_State *L, const sd_task_answer *a);

#endif
