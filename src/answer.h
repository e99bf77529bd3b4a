/*
 * answer.h: the fields a task needs, read straight from the service's JSON
 * answers (a poll's task object, a submit's task id) by the reader of json.h:
 * no Lua, no allocation, no locale. The engine reads every API answer this
 * way in C; Lua gets the fields, not a table per answer.
 *
 * An answer is "clean" when it is JSON a strict reader and lua-cjson read
 * alike (no string to repair, every number exact, nothing after the value,
 * nesting within SD_JR_MAX_DEPTH) and of the shape the fields come from.
 * Only a clean answer's fields are used; any other answer goes to the Lua
 * layer whole (http.lua, task.lua), which keeps every rule about odd answers
 * (repairs, undecodable answers, values of the wrong type) in one place.
 * The rules below are task.lua's (Task:_apply) and client.lua's
 * (`submitted`), read the same way: a value of the wrong type or out of
 * range is not taken, and the last of two keys of one name wins.
 */
#ifndef SD_ANSWER_H
#define SD_ANSWER_H

#include <stddef.h>

#include "jsonread.h"

/* Longest status taken (a longer one is ignored, as task.lua ignores it). */
#define SD_STATUS_MAX 64

/* A number field: whether the answer gave one within its range, and its value. */
typedef struct sd_answer_num {
    int set;  /* 1 when present, a number, and within range */
    double v; /* the number as sent (not yet floored) */
} sd_answer_num;

/* A string field: whether the answer gave one, and its span (escapes not yet decoded). */
typedef struct sd_answer_str {
    int set;         /* 1 when given (see the field) */
    sd_jr_str s;   /* its span */
} sd_answer_str;

/* What a poll answer says about the task ({"data": {...}}). */
typedef struct sd_task_answer {
    int clean;                 /* the fields below may be used (see above) */
    sd_answer_str status;      /* data.status: a string of at most SD_STATUS_MAX bytes (no escapes) */
    sd_answer_num progress;    /* data.progress, within -1e9..1e9 */
    sd_answer_num estimated;   /* data.estimated_time, within 0..1e8 */
    sd_answer_num created;     /* data.created, within 0..1e11 */
    sd_answer_num completed;   /* data.completed, within 0..1e11 */
    sd_answer_num actual;      /* data.actual_time, within 0..1e8 */
    const char *result;        /* the JSON text of data.result when it is an object, else NULL */
    size_t result_len;         /* its length */
    /* read from data.result (task.lua's first_url and last_frame) */
    int video;                 /* result.videos[1] is an object or a list: video_url is set (to video_url, maybe none) */
    sd_answer_str video_url;   /* its url: a non-empty string, or the first of a list */
    sd_answer_num expires;     /* its expires_at, within 0..1e11 */
    sd_answer_str last_frame;  /* result.last_frame_url, else the first video's last_frame_url, else images[1].url */
    /* data.error, when it is { code = number, message = string, type = string } (any of them) */
    int has_error;             /* data.error is an object */
    sd_answer_num error_code;  /* its code (any number) */
    sd_answer_str error_message; /* its message */
    sd_answer_str error_type;  /* its type */
} sd_task_answer;

/* Read a poll answer of task `id` (n bytes). It is clean only when, as well as
 * JSON read alike, its "data" is an object and that object's "id" (else its
 * "task_id"), when it has one, is the string `id`: an answer about another
 * task (or saying so in a way a strict reader cannot compare) is the Lua
 * layer's to refuse. */
void sd_answer_task(const char *body, size_t len, const char *id, size_t id_len, sd_task_answer *a);

/* What a submit answer says ({"data": [{...}]} or {"data": {...}}). */
typedef struct sd_submit_answer {
    int clean;          /* a task id was read (see above) */
    sd_jr_str id;     /* data.task_id, else data.id: a task id (1 to 128 letters, digits, '_', '-') */
    sd_jr_str status; /* data.status when status_set */
    int status_set;     /* a string of at most SD_STATUS_MAX bytes */
} sd_submit_answer;

/* Read a submit answer. Clean only when "data" is an object, or an array
 * whose first element is one, holding a string "task_id" (else, with no
 * "task_id" at all, "id") that is a task id the Lua layer takes (1 to 128
 * letters, digits, '_' and '-'): any other the Lua layer refuses, quoting the answer. */
void sd_answer_submit(const char *body, size_t len, sd_submit_answer *a);

#endif
