# mk/fuzz.mk: `make fuzz`, the libFuzzer targets of fuzz/ (included by the
# Makefile; fuzz/README.md says what each target checks).
#
#   make fuzz                    every target for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_SECONDS=600   longer
#   make fuzz-validate           one target (validate encode utf8 header range json answer answers parsers form, and the
#                                emulator's parsers: emu_range emu_multipart emu_request emu_json)
#   make fuzz-build              build them only
#
# Working corpora grow in build/fuzz/corpus/<target> (the committed seeds in
# fuzz/corpus/<target> are read, never written); a crash leaves its input in
# build/fuzz/artifacts/ and fails the run.

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= validate encode utf8 header range json answer answers parsers form emu_range emu_multipart emu_request emu_json
FUZZ_DIR      = build/fuzz
FUZZ_CFLAGS   = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
LUA_LIBS     := $(shell pkg-config --libs $(LUA_PC) 2>/dev/null)
FUZZ_CC       = $(CLANG) $(FUZZ_CFLAGS) $(WARN) -std=c99 -Isrc

# libFuzzer options per target. answers keeps one Lua state for every input,
# so the per-input leak check (which would always see the state's memory) is
# off; LeakSanitizer still checks at exit.
FUZZ_OPTS         = -timeout=10 -print_final_stats=1
FUZZ_OPTS_validate = -max_len=2048
FUZZ_OPTS_encode   = -max_len=2048
FUZZ_OPTS_utf8     = -max_len=512 -dict=fuzz/utf8.dict
FUZZ_OPTS_header   = -max_len=2048 -dict=fuzz/header.dict
FUZZ_OPTS_range    = -max_len=128 -dict=fuzz/range.dict
FUZZ_OPTS_json     = -max_len=2048 -dict=fuzz/json.dict
FUZZ_OPTS_answer   = -max_len=4096 -dict=fuzz/answer.dict
FUZZ_OPTS_answers  = -max_len=4096 -detect_leaks=0 -dict=fuzz/answers.dict
FUZZ_OPTS_parsers  = -max_len=1024 -detect_leaks=0 -dict=fuzz/parsers.dict
FUZZ_OPTS_form     = -max_len=256
FUZZ_OPTS_emu_range     = -max_len=256 -dict=fuzz/emu_range.dict
FUZZ_OPTS_emu_multipart = -max_len=4096 -dict=fuzz/emu_multipart.dict
FUZZ_OPTS_emu_request   = -max_len=1024 -dict=fuzz/emu_request.dict
FUZZ_OPTS_emu_json      = -max_len=1024 -dict=fuzz/utf8.dict

# The emulator's parsers of untrusted input: pure functions, no libmicrohttpd.
EMU_PARSE_SRC = emulator/parse.c emulator/multipart.c emulator/escape.c src/utf8.c
EMU_PARSE_HDR = emulator/parse.h emulator/emu.h src/utf8.h

.PHONY: fuzz fuzz-build $(FUZZ_TARGETS:%=fuzz-%)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR)/fuzz_validate: fuzz/fuzz_validate.c fuzz/alloc.h $(VALIDATE_SRC) src/utf8.c $(PLATFORM_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LUA_INC) -o $@ fuzz/fuzz_validate.c $(VALIDATE_SRC) src/utf8.c $(PLATFORM_SRC) $(LUA_LIBS) -lpthread -lm

# fuzz_encode loads lua-cjson (Debian's, for the Lua it links) to read the validator's JSON text.
$(FUZZ_DIR)/fuzz_encode: fuzz/fuzz_encode.c fuzz/alloc.h $(VALIDATE_SRC) src/utf8.c $(PLATFORM_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LUA_INC) -o $@ fuzz/fuzz_encode.c $(VALIDATE_SRC) src/utf8.c $(PLATFORM_SRC) $(LUA_LIBS) -lpthread -lm

$(FUZZ_DIR)/fuzz_utf8: fuzz/fuzz_utf8.c src/utf8.c src/utf8.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ fuzz/fuzz_utf8.c src/utf8.c

$(FUZZ_DIR)/fuzz_header: fuzz/fuzz_header.c src/buf.c src/buf.h src/header.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ fuzz/fuzz_header.c src/buf.c

# fuzz_json: the library's JSON (src/json.c) under a comma locale, with the platform's number functions.
$(FUZZ_DIR)/fuzz_json: fuzz/fuzz_json.c src/json.c src/utf8.c src/buf.c $(PLATFORM_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LUA_INC) -o $@ fuzz/fuzz_json.c src/json.c src/utf8.c src/buf.c $(PLATFORM_SRC) $(LUA_LIBS) -lpthread -lm

# fuzz_answer: the engine's reading of API answers (src/answer.c, src/jsonread.c) against the Lua
# layer's reading of what src/json.c decodes, under a comma locale.
$(FUZZ_DIR)/fuzz_answer: fuzz/fuzz_answer.c src/answer.c src/answer_push.c src/jsonread.c src/json.c src/utf8.c src/buf.c $(PLATFORM_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LUA_INC) -o $@ fuzz/fuzz_answer.c src/answer.c src/answer_push.c src/jsonread.c src/json.c src/utf8.c src/buf.c $(PLATFORM_SRC) \
	    $(LUA_LIBS) -lpthread -lm

$(FUZZ_DIR)/fuzz_range: fuzz/fuzz_range.c src/range.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ fuzz/fuzz_range.c

# Targets whose properties are Lua code (fuzz/<name>.lua) run through fuzz/fuzz_lua.c.
$(FUZZ_DIR)/fuzz_answers $(FUZZ_DIR)/fuzz_parsers: $(FUZZ_DIR)/fuzz_%: fuzz/fuzz_lua.c fuzz/%.lua $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LUA_INC) $(CURL_INC) -DREPO='"$(CURDIR)"' -DSCRIPT='"$*"' -o $@ fuzz/fuzz_lua.c $(CORE_SRC) \
	    $(LUA_LIBS) -lcurl -lpthread -lm

$(FUZZ_DIR)/fuzz_form: fuzz/fuzz_form.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LUA_INC) $(CURL_INC) -o $@ fuzz/fuzz_form.c $(CORE_SRC) $(LUA_LIBS) -lcurl -lpthread -lm

$(FUZZ_DIR)/fuzz_emu_%: fuzz/fuzz_emu_%.c $(EMU_PARSE_SRC) $(EMU_PARSE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -Iemulator -o $@ $< $(EMU_PARSE_SRC)

# fuzz-<target>: run it for FUZZ_SECONDS; one summary line in $(FUZZ_DIR)/<target>.line.
$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts; rm -f $(FUZZ_DIR)/$*.line
	@( ./$(FUZZ_DIR)/fuzz_$* $(FUZZ_OPTS) $(FUZZ_OPTS_$*) -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$*- $(FUZZ_DIR)/corpus/$* fuzz/corpus/$*; \
	    echo $$? > $(FUZZ_DIR)/$*.rc ) 2>&1 | grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)|^"' | tee $(FUZZ_DIR)/$*.log
	@rc=$$(cat $(FUZZ_DIR)/$*.rc); log=$(FUZZ_DIR)/$*.log; \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log); \
	corpus=$$(ls $(FUZZ_DIR)/corpus/$* | wc -l); \
	art=$$(sed -n 's/.*Test unit written to \(.*\)$$/\1/p' $$log | tail -1); \
	if [ "$$rc" = 0 ]; then res="clean"; else res="FAILED (exit $$rc) $${art:+input: $$art}"; fi; \
	printf '%-9s %10s runs in %ss (%s/s), corpus %s: %s\n' "$*" "$${runs:-?}" "$(FUZZ_SECONDS)" "$${rate:-?}" \
	    "$$corpus" "$$res" | tee $(FUZZ_DIR)/$*.line; \
	test "$$rc" = 0

fuzz: check-deps
	@$(MAKE) --no-print-directory fuzz-build
	@MAKE="$(MAKE)" mk/run-each "make fuzz" fuzz $(FUZZ_DIR) $(FUZZ_TARGETS)
