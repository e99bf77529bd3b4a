-- mutants/validate.lua: mutations of the validate promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "empty-lists-arrays-validator",
    promise = "every list field is sent as a JSON array, whatever its length, when the validator writes the body",
    edits = {
      { file = "src/validate_checks.c",
        from = [[
    long n = sd_check_array(v, &at, t, "an array of { type = \"web_search\" } tables");
    SD_JSON_LIT(v, "[");
]],
        to = [[
    long n = sd_check_array(v, &at, t, "an array of { type = \"web_search\" } tables");
    if (n == 0) SD_JSON_LIT(v, "{");
    else SD_JSON_LIT(v, "[");
]] },
      { file = "src/validate_checks.c",
        from = [[
        }
        lua_settop(L, top);
    }
    SD_JSON_LIT(v, "]");
]],
        to = [[
        }
        lua_settop(L, top);
    }
    if (n == 0) SD_JSON_LIT(v, "}");
    else SD_JSON_LIT(v, "]");
]] },
      { file = "src/validate_urls.c",
        from = [[
    SD_JSON_LIT(v, "[");
]],
        to = [[
    if (n == 0) SD_JSON_LIT(v, "{");
    else SD_JSON_LIT(v, "[");
]] },
      { file = "src/validate_urls.c",
        from = [[
    SD_JSON_LIT(v, "]");
]],
        to = [[
    if (n == 0) SD_JSON_LIT(v, "}");
    else SD_JSON_LIT(v, "]");
]] },
    } },
  { name = "json-escapes-control",
    promise = "the body the validator writes escapes every control character (RFC 8259)",
    file = "src/validate_json.c",
    from = [[
        if (c < 0x20 || c == '"' || c == '\\') p += escape(c, p);
]],
    to = [[
        if (c == '"' || c == '\\') p += escape(c, p);
]] },
  { name = "validator-every-problem",
    promise = "the validator lists every problem with its field path, not only the first",
    file = "src/validate_report.c",
    from = [[
    if (v->count > SD_MAX_PROBLEMS) return; /* counted only: the closing entry sums these up */
]],
    to = [[
    if (v->count > 1) return;
]] },
  { name = "validator-fullwidth",
    promise = "did-you-mean reads full-width forms (16：9, ７２０ｐ) as ASCII",
    file = "src/validate_suggest.c",
    from = [[
    s = fold_fullwidth(s, len, ascii, sizeof ascii);
]],
    to = [[
    s = len ? s : fold_fullwidth(s, len, ascii, sizeof ascii);
]] },
  { name = "validator-exact-suggestion",
    promise = "a value equal to an allowed one but for case or full-width forms is offered as that value",
    file = "src/validate_suggest.c",
    from = [[
    if (bestd == 0) return best; /* the same but for case or full-width forms */
]],
    to = [[
]] },
}
