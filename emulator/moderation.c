/*
 * moderation.c: scripted content-moderation faults, so clients can meet the
 * service's refusals for sensitive content offline.
 *
 *   --refuse-word WORD       a submit whose prompt or any URL holds WORD is refused:
 *                            400 invalid_request_error, code InputTextSensitiveContentDetected
 *                            (Image, Video, Audio), the message naming the input (prompt,
 *                            image_urls[2], image_with_roles[1], video_urls[1], audio_urls[1])
 *   --flag-word WORD=CODE    a task whose prompt or any URL holds WORD is made (and billed) and
 *                            fails half-way with error.code CODE (a native code such as
 *                            InputImageSensitiveContentDetected.PrivacyInformation,
 *                            OutputVideoSensitiveContentDetected, OutputAudioSensitiveContentDetected)
 *                            and the service's message for it; a code of no moderation kind (one
 *                            starting neither Input nor Output) is a plain failure
 *
 * Both may be given several times (EMU_MODERATION_WORDS in all). Matching is a
 * plain substring, case-sensitive. The refusal comes after validation and
 * before any billing; a flagged task is billed like any other.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "emu.h"
#include "moderation.h"
#include "parse.h"

typedef struct {
    char word[64];
    char code[EMU_CODE_MAX]; /* "" for a refusal */
} emu_word;

static emu_word words[EMU_MODERATION_WORDS];
static int nwords;

int emu_moderation_option(int refuse, const char *arg) {
    const char *eq = refuse ? NULL : strchr(arg, '=');
    size_t wlen = eq ? (size_t)(eq - arg) : strlen(arg);
    emu_word *w;
    if (nwords >= EMU_MODERATION_WORDS || wlen == 0 || wlen >= sizeof words[0].word) return -1;
    if (!refuse && (!eq || !eq[1] || strlen(eq + 1) >= EMU_CODE_MAX)) return -1;
    if (!refuse)
        for (const char *p = eq + 1; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                  *p == '_' || *p == '-'))
                return -1;
    w = &words[nwords++];
    memcpy(w->word, arg, wlen);
    w->word[wlen] = '\0';
    snprintf(w->code, sizeof w->code, "%s", refuse ? "" : eq + 1);
    return 0;
}

/* Whether the string item s holds the word; writes where it was met. */
static int holds(const cJSON *s, const char *word, const char *path, char *where, size_t cap) {
    if (!cJSON_IsString(s) || !strstr(s->valuestring, word)) return 0;
    snprintf(where, cap, "%s", path);
    return 1;
}

/* The first input of the request holding word: prompt, then each URL list in order. */
static int find(const cJSON *req, const char *word, char *where, size_t cap) {
    static const char *const lists[] = {"image_urls", "image_with_roles", "video_urls", "audio_urls"};
    char path[48];
    if (holds(cJSON_GetObjectItemCaseSensitive(req, "prompt"), word, "prompt", where, cap)) return 1;
    for (int k = 0; k < 4; k++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, lists[k]), *item;
        int i = 0;
        cJSON_ArrayForEach(item, list) {
            const cJSON *url = k == 1 ? cJSON_GetObjectItemCaseSensitive(item, "url") : item;
            snprintf(path, sizeof path, "%s[%d]", lists[k], ++i);
            if (holds(url, word, path, where, cap)) return 1;
        }
    }
    return 0;
}

/* The native code of a refused input: by where it was met. */
static const char *input_code(const char *where) {
    if (strncmp(where, "image", 5) == 0) return "InputImageSensitiveContentDetected";
    if (strncmp(where, "video", 5) == 0) return "InputVideoSensitiveContentDetected";
    if (strncmp(where, "audio", 5) == 0) return "InputAudioSensitiveContentDetected";
    return "InputTextSensitiveContentDetected";
}

/* The noun of an input, for messages. */
static const char *input_noun(const char *where) {
    if (strncmp(where, "image", 5) == 0) return "input image";
    if (strncmp(where, "video", 5) == 0) return "input video";
    if (strncmp(where, "audio", 5) == 0) return "input audio";
    return "input text";
}

void emu_moderation_message(const char *code, const char *where, char *out, size_t cap) {
    if (strncmp(code, "OutputVideo", 11) == 0)
        snprintf(out, cap, "The request failed because the output video may contain sensitive information.");
    else if (strncmp(code, "OutputAudio", 11) == 0)
        snprintf(out, cap, "The request failed because the generated audio may contain sensitive information.");
    else if (strncmp(code, "OutputImage", 11) == 0)
        snprintf(out, cap, "The request failed because the output image may contain sensitive information.");
    else if (strncmp(code, "Input", 5) == 0)
        snprintf(out, cap, "The request failed because the %s (%s) may contain %s.", input_noun(where), where,
                 strstr(code, "PrivacyInformation") ? "real people's private information" : "sensitive information");
    else /* a code of no moderation kind: a plain failure, scripted (the word was met at `where`) */
        snprintf(out, cap, "The task failed: %s (scripted by --flag-word at %s).", code, where);
}

int emu_refused(const cJSON *req, char *body, size_t cap) {
    char where[48], msg[300], esc[700];
    for (int i = 0; i < nwords; i++) {
        if (words[i].code[0] || !find(req, words[i].word, where, sizeof where)) continue;
        const char *code = input_code(where);
        emu_moderation_message(code, where, msg, sizeof msg);
        emu_json_escape(esc, sizeof esc, msg);
        snprintf(body, cap, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"type\":\"invalid_request_error\"}}",
                 code, esc);
        return 1;
    }
    return 0;
}

int emu_flagged(const cJSON *req, char *where, size_t cap) {
    for (int i = 0; i < nwords; i++)
        if (words[i].code[0] && find(req, words[i].word, where, cap)) return i + 1;
    return 0;
}

const char *emu_flag_code(int flag) {
    return flag > 0 && flag <= nwords ? words[flag - 1].code : "";
}
