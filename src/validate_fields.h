/*
 * validate_fields.h: the request's keys, each written once (API.md section 1).
 *
 * SD_REQUEST_FIELDS(X) expands X(name, type, rank, when, check, media, doc) once per
 * key, in the order the contract and types/seedance.lua list them (the order
 * of "known keys are ..." and of did-you-mean ties). From it come the key
 * lookup of the validator's single walk, its dispatch, the did-you-mean list,
 * core.request_fields() and the fuzzer's words, as Lua-cURLv3 expands its
 * option list (src/lcoptmulti.h).
 *
 *   name   the key, an identifier (stringified where a string is needed)
 *   type   its JSON (Schema) type: "string", "integer", "boolean", "array"
 *   rank   when its check runs, 0 first: model before anything that depends
 *          on the model (asset URLs, 1080p), the media lists before prompt
 *          (whose requirement depends on them); each of 0 .. n-1 once (a rank
 *          used twice or out of range does not build: -Woverride-init, bounds).
 *          Problems are listed in this order, after the unknown keys.
 *   when   SD_ALWAYS: checked when absent too (required, or required in some
 *          requests); SD_IF_SET: only when present
 *   check  the function that checks its value (declared in validate_int.h,
 *          which defines SD_ALWAYS and SD_IF_SET)
 *   media  what its URLs point at, for code that walks a request's media
 *          (the local images to upload and check before paying): "" none,
 *          "image" a list of image URLs, "image.url" a list of objects whose
 *          `url` is an image URL, "video", "audio"
 *   doc    one line for people (types/seedance.lua's ---@field says the same)
 */
#ifndef SD_VALIDATE_FIELDS_H
#define SD_VALIDATE_FIELDS_H

#define SD_REQUEST_FIELDS(X)                                                                        \
    X(model, "string", 0, SD_ALWAYS, sd_check_model, "",                                            \
      "required: doubao-seedance-2.0, -fast, -face, -fast-face, or a model seedance.models describes")   \
    X(prompt, "string", 5, SD_ALWAYS, sd_check_prompt, "",                                          \
      "required for text-to-video; at most 4000 characters")                                        \
    X(duration, "integer", 6, SD_IF_SET, sd_check_duration, "", "seconds, 4 to 15 (default 5)")     \
    X(size, "string", 7, SD_IF_SET, sd_check_size, "", "aspect ratio (default 16:9)")               \
    X(resolution, "string", 8, SD_IF_SET, sd_check_resolution, "",                                  \
      "1080p only on doubao-seedance-2.0 and -face (default 480p)")                                 \
    X(seed, "integer", 9, SD_IF_SET, sd_check_seed, "", "-1 .. 4294967295")                         \
    X(generate_audio, "boolean", 10, SD_IF_SET, sd_check_boolean, "",                               \
      "add generated sound (default false)")                                                        \
    X(return_last_frame, "boolean", 11, SD_IF_SET, sd_check_boolean, "",                            \
      "also return the last frame as an image URL, for chaining clips (default false)")             \
    X(tools, "array", 12, SD_IF_SET, sd_check_tools, "", "web_search is the only tool")             \
    X(image_urls, "array", 1, SD_IF_SET, sd_check_image_urls, "image",                              \
      "1 to 9 http(s):// or asset:// URLs, or seedance.file(path)")                                 \
    X(image_with_roles, "array", 2, SD_IF_SET, sd_check_roles, "image.url",                         \
      "images with roles; not with image_urls; at most one first_frame and one last_frame")         \
    X(video_urls, "array", 3, SD_IF_SET, sd_check_video_urls, "video", "at most 3")                 \
    X(audio_urls, "array", 4, SD_IF_SET, sd_check_audio_urls, "audio",                              \
      "at most 3; needs a reference image or video")

/* Field ids: SD_F_model, SD_F_prompt, ... in table order, and their count. */
#define SD_FIELD_ID(name, type, rank, when, check, media, doc) SD_F_##name,
enum { SD_REQUEST_FIELDS(SD_FIELD_ID) SD_NFIELDS };
#undef SD_FIELD_ID

/* The keys of image_with_roles items and of tools items, in the same way. */
#define SD_ROLE_ITEM_FIELDS(X) X(url) X(role)
#define SD_TOOL_ITEM_FIELDS(X) X(type)
#define SD_ITEM_ID(name) SD_R_##name,
enum { SD_ROLE_ITEM_FIELDS(SD_ITEM_ID) SD_NROLE_FIELDS };
#undef SD_ITEM_ID
#define SD_ITEM_ID(name) SD_T_##name,
enum { SD_TOOL_ITEM_FIELDS(SD_ITEM_ID) SD_NTOOL_FIELDS };
#undef SD_ITEM_ID

#endif
