/*
 * validate_rules.c: the cross-field rules of API.md section 1, from the
 * counts the media checks left in the context. (The rules that tie one value
 * to the model, asset URLs and 1080p, are checked with that value.)
 */
#include "validate_int.h"

void sd_check_combinations(sd_vctx *v) {
    const sd_media *m = &v->m;
    const sd_path roles = {"image_with_roles", 0, NULL}, videos = {"video_urls", 0, NULL},
                  audios = {"audio_urls", 0, NULL};
    if (m->has_image_urls && m->has_roles)
        sd_problem(v, &roles, "cannot be used together with image_urls; use one of them");
    if (m->frames > 0) {
        if (m->videos > 0)
            sd_problem(v, &videos, "not allowed when image_with_roles holds a first_frame or last_frame");
        if (m->audios > 0)
            sd_problem(v, &audios, "not allowed when image_with_roles holds a first_frame or last_frame");
    } else if (m->audios > 0 && m->images == 0 && m->role_refs == 0 && m->videos == 0) {
        sd_problem(v, &audios, "needs at least one reference image (image_urls or a reference_image) "
                               "or reference video (video_urls) in the same request");
    }
}
