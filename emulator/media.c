/* media.c: the committed fixtures (a playable MP4 per aspect ratio and duration, a PNG last frame). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

static const char *const ASPECTS[EMU_ASPECTS] = {"16x9", "9x16", "1x1", "4x3", "3x4", "21x9"};

int emu_aspect_index(const char *aspect) {
    for (int i = 0; i < EMU_ASPECTS; i++)
        if (strcmp(ASPECTS[i], aspect) == 0) return i;
    return 0;
}

/* Read a whole file into a new buffer. */
static unsigned char *slurp(const char *dir, const char *name, size_t *len) {
    char path[1024];
    FILE *f;
    long n;
    unsigned char *buf;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int emu_media_load(const char *dir) {
    char name[32];
    for (int i = 0; i < EMU_ASPECTS; i++) {
        for (int s = 0; s < EMU_SECONDS; s++) {
            snprintf(name, sizeof name, "%s-%ds.mp4", ASPECTS[i], s + EMU_MIN_SECONDS);
            E.fixtures[i][s] = slurp(dir, name, &E.fixture_len[i][s]);
            if (!E.fixtures[i][s]) {
                fprintf(stderr, "seedance-emulator: cannot read %s/%s (use --media-dir)\n", dir, name);
                return -1;
            }
        }
    }
    E.png = slurp(dir, "last-frame.png", &E.png_len);
    if (!E.png) {
        fprintf(stderr, "seedance-emulator: cannot read %s/last-frame.png (use --media-dir)\n", dir);
        return -1;
    }
    return 0;
}

const unsigned char *emu_fixture(const char *aspect, int seconds, size_t *len) {
    int i = emu_aspect_index(aspect), s = seconds - EMU_MIN_SECONDS;
    if (s < 0) s = 0;
    if (s >= EMU_SECONDS) s = EMU_SECONDS - 1;
    *len = E.fixture_len[i][s];
    return E.fixtures[i][s];
}

void emu_media_free(void) {
    for (int i = 0; i < EMU_ASPECTS; i++)
        for (int s = 0; s < EMU_SECONDS; s++) free(E.fixtures[i][s]);
    free(E.png);
}
