-- mutants/models.lua: mutations of the promises of models as data (seedance.models; mutants/catalogue.lua
-- says how a row reads).
return {
  { name = "joined-whole-names",
    promise = "a list of models (or words) too long for its message names whole items and counts the rest",
    file = "src/validate_suggest.c",
    from = [[
    for (i = 0; i < total; i++) {
        const char *sep = i ? ", " : "";
        size_t need = strlen(sep) + strlen(list[i]) + (i + 1 < total ? SD_JOINED_TAIL : 0);
        if (n + need >= cap) break;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", sep, list[i]);
    }
    if (i < total) snprintf(out + n, cap - n, "%s%d more", i ? " and " : "", total - i);
]],
    to = [[
    for (i = 0; i < total && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", list[i]);
]] },
  { name = "models-duration-data",
    promise = "the duration range is the request's model's rules (a model added with max 30 takes 30)",
    file = "src/validate_checks.c",
    from = [[
    check_integer(v, name, idx, (double)sd_rules(v)->dmin, (double)sd_rules(v)->dmax);
]],
    to = [[
    check_integer(v, name, idx, 4.0, 15.0);
]] },
  { name = "models-resolutions-data",
    promise = "the resolutions a request may ask for are its model's (4k added to 2.0 is taken; 1080p on -fast is not)",
    file = "src/validate_checks.c",
    from = [[
    check_word(v, &at, idx, sd_rules(v)->res, sd_rules(v)->nres, 'r');
]],
    to = [[
    check_word(v, &at, idx, SD_DEFAULT_MODEL.res, SD_DEFAULT_MODEL.nres, 'r');
]] },
  { name = "models-like",
    promise = "seedance.models.add(name, { like = M }) starts the model from M's rules",
    file = "src/validate_models.c",
    from = [[
        base = lookup(L, t); /* pops the name */
]],
    to = [[
        lua_pop(L, 1);
        base = &SD_DEFAULT_MODEL;
]] },
  { name = "models-features",
    promise = "a model's features decide what a request may use (generate_audio, web_search, roles, lists)",
    file = "src/validate_checks.c",
    from = [[
    if (sd_rules(v)->features >> feature & 1u) return;
]],
    to = [[
    return;
]] },
  { name = "models-url-kinds",
    promise = "a model that takes asset URLs only refuses http(s) URLs and local files",
    file = "src/validate_urls.c",
    from = [[
    if (!(sd_rules(v)->url_kinds >> SD_URL_HTTP & 1u))
]],
    to = [[
    if (0)
]] },
  { name = "models-unknown-says-how",
    promise = "a model nobody described is refused with a message that says how to describe it",
    file = "src/validate_checks.c",
    from = [[
    "to use a model this client does not know, describe it: seedance.models.add(name, { like = "   \
    "\"doubao-seedance-2.0\", ... }) in Lua, --model-rules FILE.json for the command"
]],
    to = [[
    "an unknown model"
]] },
}
