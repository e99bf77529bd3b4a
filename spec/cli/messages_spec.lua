-- Every error the seedance command prints, input by input, with its exact
-- line: each names the fix, not only the symptom (issue 24, "Command-line
-- messages that name the fix"). A usage error is its line, then the
-- command's usage, then "Run `seedance X --help` for every flag."; any other
-- error is one line (a request with several problems lists them below it);
-- with --json, one JSON object on standard output.
-- In the table: {D} a scratch folder, {URL} the emulator, {DEAD} a port where
-- nothing listens, {ID} a task id no service knows, {TASK} the id of a task
-- the row paid for; `code` the exit code; a refusal before paying sends nothing.
local cli = require("helpers.cli")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local process = require("helpers.process")

local ID = "task_01M8KXCEGT13GWE6Y1Y5Z7S7BQ"
local COMMANDS = "abandon, balance, batch, completion, config, download, generate, help, journal, status, validate, "
  .. "version, wait"

-- Answers a hostile gateway gives, for the rows that need one.
local ANSWERS = {
  ["429"] = { status = 429, headers = { { "Retry-After", "0" } },
              json = { error = { code = 429, type = "rate_limit_error", message = "too many requests" } } },
  ["503"] = { status = 503, headers = { { "Retry-After", "0" } },
              json = { error = { code = 503, type = "service_unavailable", message = "overloaded" } } },
  html = { status = 502, headers = { { "Content-Type", "text/html" } }, body = "<html><body>Bad Gateway</body></html>" },
  ["403"] = { status = 403, json = { error = { code = 403, type = "permission_error",
                                               message = "this key may not use this model" } } },
}

local ROWS = {
  -- ---- the command line ----
  { "generate --prompt x --generate-audio yes", 2, "seedance generate: --generate-audio takes no value, but 'yes' "
    .. "follows it; write --generate-audio alone to turn it on (leave it out for off)", tags = "#m-cli-msg-flag-no-value" },
  { "generate --prompt x --generate-audio=yes", 2, "seedance generate: --generate-audio takes no value; write "
    .. "--generate-audio alone to turn it on (leave it out for off)" },
  { "generate -prompt 'a cat'", 2, "seedance generate: unknown option '-prompt' (did you mean '--prompt'? a long "
    .. "option takes two dashes)", tags = "#m-cli-msg-one-dash" },
  { "wait {ID} -output {D}/v.mp4", 2, "seedance wait: unknown option '-output' (did you mean '--output'? a long option "
    .. "takes two dashes)", tags = "#m-cli-msg-one-dash" },
  { "-v balance", 2, "seedance: -v is an option of `seedance balance`, not of seedance itself; put it after the "
    .. "command: seedance balance -v", tags = "#m-cli-msg-option-position", usage = true },
  { "generate --prompt x --aspect-ratio 16:9", 2, "seedance generate: unknown option '--aspect-ratio': this is the 1.5 "
    .. "Pro name; use --size", tags = "#m-cli-msg-key-advice" },
  { "generate --prompt x --ratio 16:9", 2, "seedance generate: unknown option '--ratio': use --size",
    tags = "#m-cli-msg-key-advice" },
  { "generate --prompt x --camera-fixed", 2, "seedance generate: unknown option '--camera-fixed': this is a 1.5 Pro "
    .. "key with no 2.0 equivalent; remove it" },
  { "generate --prompt x --image-urls a.png", 2, "seedance generate: unknown option '--image-urls': the request key "
    .. "image_urls is given with --image", tags = "#m-cli-msg-key-advice" },
  { "generate --prompt x --resolutions 720p", 2, "seedance generate: unknown option '--resolutions' (did you mean "
    .. "'--resolution'?)" },
  { "wait {ID} --ouptut v.mp4", 2, "seedance wait: unknown option '--ouptut' (did you mean '--output'?)" },
  { "validate {D}/ok.json -o x", 2, "seedance validate: unknown option '-o': `seedance validate` takes no -o "
    .. "(generate, wait and download do); remove it", tags = "#found #m-cli-msg-other-command" },
  { "status {ID} --prompt x", 2, "seedance status: unknown option '--prompt': `seedance status` takes no --prompt "
    .. "(generate and batch do); remove it", tags = "#found #m-cli-msg-other-command" },
  { "status {ID} --wait", 2, "seedance status: unknown option '--wait': `seedance status` takes no --wait (only "
    .. "generate does); remove it", tags = "#found #m-cli-msg-other-command" },
  { "--prompt x -o {D}/v.mp4", 2, "seedance: --prompt is an option of generate and batch, not of seedance itself; "
    .. "write the command first: seedance generate --prompt x -o {D}/v.mp4", usage = true,
    tags = "#found #m-cli-msg-other-command" },
  { "status {ID} --image-urls x", 2, "seedance status: unknown option '--image-urls'",
    tags = "#found #m-cli-msg-key-advice-scope" },
  { "generate --prompt x -o={D}/v.mp4", 2, "seedance generate: -o={D}/v.mp4: a short option takes its value after "
    .. "a space, not after '='; write -o {D}/v.mp4 (or --output={D}/v.mp4)", tags = "#found #m-cli-msg-short-equals" },
  { "generate --prompt x -q=1", 2, "seedance generate: -q=1: -q takes no value; write -q alone",
    tags = "#found #m-cli-msg-short-equals" },
  { "generate --prompt x --image ''", 2, "seedance generate: --image is empty (a shell variable that is not set?); "
    .. "name an image file or its URL", tags = "#found #m-cli-msg-empty-path" },
  { "generate --prompt x --first-frame ''", 2, "seedance generate: --first-frame is empty (a shell variable that is "
    .. "not set?); name an image file or its URL", tags = "#found #m-cli-msg-empty-path" },
  { "generate --prompt x -o ''", 2, "seedance generate: -o is empty (a shell variable that is not set?); name the "
    .. "file to save the video to", tags = "#found #m-cli-msg-empty-path" },
  { "wait {ID} --save-last-frame=", 2, "seedance wait: --save-last-frame is empty (a shell variable that is not "
    .. "set?); name the file to save the last frame to", tags = "#found #m-cli-msg-empty-path" },
  { "generate --request '' --prompt x", 2, "seedance generate: --request is empty (a shell variable that is not "
    .. "set?); name the request file (JSON; - for standard input)", tags = "#found #m-cli-msg-empty-path" },
  { "generate --prompt x --journal ''", 2, "seedance generate: --journal is empty (a shell variable that is not "
    .. "set?); name the journal file, or leave the flag out", tags = "#found #m-cli-msg-empty-path" },
  { "balance --api-key-file ''", 2, "seedance balance: --api-key-file is empty (a shell variable that is not set?); "
    .. "name the file that holds the API key, or leave the flag out", tags = "#found #m-cli-msg-empty-path" },
  { "balance --ca-file ''", 2, "seedance balance: --ca-file is empty (a shell variable that is not set?); name a CA "
    .. "bundle (PEM), or leave the flag out", tags = "#found #m-cli-msg-empty-path" },
  { "validate ''", 2, "seedance validate: the request file's name is empty (a shell variable that is not set?); "
    .. "name a JSON file (- for standard input)", tags = "#found #m-cli-msg-empty-path" },
  { "generate --prompt a cat", 2, "seedance generate: too many arguments: 'cat' follows --prompt a; put a value with "
    .. "spaces in quotes (--prompt \"a cat\")", tags = "#m-cli-msg-unquoted-value" },
  { "status {ID} {ID}", 2, "seedance status: too many arguments: '{ID}' is one too many" },
  { "generate help", 2, "seedance generate: too many arguments: 'help' is one too many; for help, write seedance "
    .. "generate --help", tags = "#found #m-cli-msg-help-word" },
  { "generate --prompt x -o {D}/a.mp4 -o {D}/b.mp4", 2, "seedance generate: -o is given more than once; give it once "
    .. "(the last would silently win)", tags = "#m-cli-msg-repeated-option" },
  { "generate --prompt", 2, "seedance generate: option '--prompt' requires an argument: give it one (--prompt TEXT)" },
  { "wait", 2, "seedance wait: missing argument 'ID': give the task id, as `seedance generate` printed it "
    .. "(seedance wait task_...)" },
  { "validate", 2, "seedance validate: missing argument 'FILE.json': name the request file (seedance validate "
    .. "req.json; - for standard input)", tags = "#found #m-cli-msg-missing-argument" },
  { "completion", 2, "seedance completion: missing argument 'SHELL': name the shell (seedance completion bash, or "
    .. "zsh, fish)", tags = "#found #m-cli-msg-missing-argument" },
  { "genrate --prompt x", 2, "seedance: unknown command 'genrate' (did you mean 'generate'?)", usage = true },
  { "frobnicate", 2, "seedance: unknown command 'frobnicate'; the commands are " .. COMMANDS, usage = true },
  { "help frobnicate", 2, "seedance help: no command 'frobnicate'; the commands are " .. COMMANDS, usage = false },
  { "completion tcsh", 2, "seedance completion: argument 'SHELL' must be one of 'bash', 'zsh', 'fish'" },
  { "balance --timeout soon", 2, "seedance balance: --timeout must be a number of seconds above 0, got 'soon'" },
  { "wait {ID} --wait-timeout 0", 2, "seedance wait: --wait-timeout must be a number of seconds above 0, got '0'" },
  { "validate --json {D}/trailing.json", 3, { error = { type = "validation_error", message = "{D}/trailing.json:4:1: "
    .. "not valid JSON: expected a key in double quotes, found '}'; remove the comma before it" } }, json = true,
    tags = "#m-cli-msg-validate-json" },
  { "validate --json {D}/ok.json", 0, { file = "{D}/ok.json", valid = true }, json = true,
    tags = "#m-cli-msg-validate-json" },

  -- ---- the request ----
  { "generate --prompt x --duration 5.5", 2, "seedance: --duration must be a whole number, got '5.5'" },
  { "generate --prompt x --size 16x9", 3, { "seedance: validation_error: invalid request: 1 problem (first: size: must "
    .. "be one of 16:9, 9:16, 1:1, 4:3, 3:4, 21:9, adaptive, got string \"16x9\"; did you mean 16:9?)" } },
  { "generate --prompt x --duration 3 --resolution 1080p --model doubao-seedance-2.0-fast", 3, {
    "seedance: validation_error: invalid request: 2 problems (first: duration: must be between 4 and 15, got 3)",
    "  duration: must be between 4 and 15, got 3",
    "  resolution: 1080p is available only on doubao-seedance-2.0 and doubao-seedance-2.0-face, not on "
      .. "doubao-seedance-2.0-fast" } },
  { "generate --request {D}/trailing.json", 3, "seedance: validation_error: {D}/trailing.json:4:1: not valid JSON: "
    .. "expected a key in double quotes, found '}'; remove the comma before it", tags = "#m-cli-msg-json-line-column" },
  { "generate --request {D}/unquoted.json", 3, "seedance: validation_error: {D}/unquoted.json:2:3: not valid JSON: "
    .. "expected a key in double quotes, found invalid token; a key is written in double quotes (\"key\")",
    tags = "#m-cli-msg-json-line-column" },
  { "validate {D}/missing-comma.json", 3, "seedance: validation_error: {D}/missing-comma.json:3:3: not valid JSON: "
    .. "expected ',' or '}', found a string; a comma is missing before it", tags = "#m-cli-msg-json-line-column" },
  { "generate --request {D}/empty.json", 3, "seedance: validation_error: {D}/empty.json is not a JSON object: it is "
    .. "empty" },
  { "generate --request {D}/list.json", 3, "seedance: validation_error: {D}/list.json is not a JSON object: it holds "
    .. "a list; a request is { \"model\": ..., ... }" },
  { "generate --request {D}/missing.json", 10, "seedance: io_error: cannot read {D}/missing.json (No such file or "
    .. "directory)" },
  { "validate {D}/utf16.json", 3, "seedance: validation_error: {D}/utf16.json is UTF-16 text; save it as UTF-8" },
  { "generate --prompt x --image {D}/missing.png", 10, "seedance: io_error: {D}/missing.png: cannot read (No such "
    .. "file or directory)" },
  { "generate --prompt x --image {D}/ok.json", 3, "seedance: validation_error: {D}/ok.json: not a JPEG, PNG, WebP or "
    .. "GIF image" },
  { "generate --prompt x --image -", 2, "seedance: --image -: only --request reads standard input, and the command "
    .. "writes no file to standard output; name a file (./- for one named '-')" },
  { "generate --prompt x -o {D}/nodir/v.mp4", 10, "seedance: io_error: {D}/nodir/v.mp4: its folder {D}/nodir does "
    .. "not exist ({D}/nodir: No such file or directory)" },
  { "generate --prompt x -o {D}", 10, "seedance: io_error: {D}: is a directory, not a file; choose another output "
    .. "path" },
  { "generate --prompt x -o {D}/exists.mp4", 2, "seedance: -o {D}/exists.mp4: the file exists; pass --force to "
    .. "replace it, or choose another name", tags = "#m-cli-msg-existing-output" },
  { "download {ID} --save-last-frame {D}/exists.mp4", 2, "seedance: --save-last-frame {D}/exists.mp4: the file "
    .. "exists; pass --force to replace it, or choose another name", tags = "#m-cli-msg-existing-output" },
  { "generate --prompt x -o {D}/v.mp4 --save-last-frame {D}/v.mp4", 2, "seedance: -o {D}/v.mp4 and --save-last-frame "
    .. "{D}/v.mp4 name the same file; the run would overwrite one with the other: choose another name" },
  { "download {ID}", 2, "seedance: download needs -o FILE (the video) or --save-last-frame FILE" },
  { "status 'bad id!'", 2, "seedance: task id must be 1 to 128 letters, digits, '_' or '-', got 'bad id!'; give "
    .. "the id as `seedance generate` printed it (task_...)", tags = "#found #m-cli-msg-task-id-inner" },
  { "status https://xcompute.us/v1/tasks/{ID}", 2, "seedance: task id must be 1 to 128 letters, digits, '_' or '-', "
    .. "got 'https://xcompute.us/v1/tasks/task_01M8KX'; did you mean {ID}?", tags = "#found #m-cli-msg-task-id-inner" },
  { "wait '{ID} ' -o {D}/w.mp4", 2, "seedance: task id must be 1 to 128 letters, digits, '_' or '-', got '{ID} '; "
    .. "did you mean {ID}?", tags = "#found #m-cli-msg-task-id-inner" },

  -- ---- the settings ----
  { "balance --base-url ''", 2, "seedance: --base-url is empty (a shell variable that is not set?); give the "
    .. "service's URL, or leave the flag out for the default https://xcompute.us" },
  { "balance --base-url http://10.1.2.3:8080", 2, "seedance: --base-url 'http://10.1.2.3:8080' is plain http to "
    .. "10.1.2.3, which is not this machine: the key would cross the network in clear text; use https, or pass "
    .. "--allow-insecure-http" },
  { "balance --base-url https://user:pw@example.com", 2, "seedance: --base-url 'https://***@example.com' holds user "
    .. "info before '@' (libcurl would connect to example.com); remove it" },
  { "balance --proxy 'not a url'", 2, "seedance: --proxy 'not a url' is not a proxy URL; write it as http://HOST:PORT "
    .. "(or socks5://HOST:PORT)" },
  { "balance --ca-file {D}/missing.pem", 2, "seedance: --ca-file {D}/missing.pem: cannot read it (No such file or "
    .. "directory); name a CA bundle (PEM)" },
  { "balance", 2, "seedance: no API key: set SEEDANCE_API_KEY, or pass --api-key-file FILE (or name a key file with "
    .. "api_key_file in the config file " .. cli.NO_CONFIG .. "/seedance/config)", env = { SEEDANCE_API_KEY = false } },
  { "balance", 2, "seedance: SEEDANCE_API_KEY contains spaces or control characters; it must hold the API key alone",
    env = { SEEDANCE_API_KEY = "sk with space" } },
  { "balance --api-key-file {D}/empty.key", 2, "seedance: --api-key-file {D}/empty.key is empty; put the API key in "
    .. "it" },
  { "balance --api-key-file {D}/missing.key", 10, "seedance: io_error: cannot read --api-key-file {D}/missing.key (No "
    .. "such file or directory)" },
  { "balance", 2, "seedance: SEEDANCE_LOG must be info or debug, got 'loud'", env = { SEEDANCE_LOG = "loud" } },
  { "balance", 2, "seedance: SEEDANCE_TIME_SCALE must be a number above 0 (1/speed for a sped-up emulator), got "
    .. "'fast'", env = { SEEDANCE_TIME_SCALE = "fast" } },

  -- ---- the service ----
  { "balance", 4, "seedance: authentication_error (HTTP 401): authentication failed: invalid API key; the key came "
    .. "from SEEDANCE_API_KEY: check it, or name a key file with --api-key-file FILE",
    env = { SEEDANCE_API_KEY = "sk-test-401" }, tags = "#m-cli-msg-key-source" },
  { "balance --api-key-file {D}/401.key", 4, "seedance: authentication_error (HTTP 401): authentication failed: "
    .. "invalid API key; the key came from --api-key-file {D}/401.key: check it", tags = "#m-cli-msg-key-source" },
  { "balance", 4, "seedance: permission_error (HTTP 403): this key may not use this model; the key came from "
    .. "SEEDANCE_API_KEY: check it, or name a key file with --api-key-file FILE", gateway = "403" },
  { "generate --prompt x", 5, "seedance: payment_required (HTTP 402): insufficient balance: please top up; `seedance "
    .. "balance` shows what is left", env = { SEEDANCE_API_KEY = "sk-test-402" } },
  { "status 01M8KXCEGT13GWE6Y1Y5Z7S7BQ", 3, "seedance: invalid_request_error (HTTP 404): task not found: "
    .. "01M8KXCEGT13GWE6Y1Y5Z7S7BQ; task ids begin with task_: did you mean task_01M8KXCEGT13GWE6Y1Y5Z7S7BQ?",
    tags = "#m-cli-msg-task-prefix" },
  { "wait 01M8KXCEGT13GWE6Y1Y5Z7S7BQ -o {D}/w.mp4", 3, "seedance: invalid_request_error (HTTP 404): task not found: "
    .. "01M8KXCEGT13GWE6Y1Y5Z7S7BQ; task ids begin with task_: did you mean task_01M8KXCEGT13GWE6Y1Y5Z7S7BQ?",
    tags = "#m-cli-msg-task-prefix" },
  { "status TASK_01M8KXCEGT13GWE6Y1Y5Z7S7BQ", 3, "seedance: invalid_request_error (HTTP 404): task not found: "
    .. "TASK_01M8KXCEGT13GWE6Y1Y5Z7S7BQ; task ids begin with task_ in lower case: did you mean {ID}?",
    tags = "#found #m-cli-msg-task-id-case" },
  { "status {ID}", 3, "seedance: invalid_request_error (HTTP 404): task not found: {ID}; check the id (as `seedance "
    .. "generate` printed it), and that the task was made on {URL} (SEEDANCE_BASE_URL)" },
  { "balance", 8, "seedance: network_error: Failed to connect to 127.0.0.1 port {DEADPORT} after 0 ms: Couldn't "
    .. "connect to server; is the service at {DEAD} (SEEDANCE_BASE_URL) running?", env = { SEEDANCE_BASE_URL = "{DEAD}" },
    tags = "#m-cli-msg-connect-hint" },
  { "balance --base-url {DEAD}", 8, "seedance: network_error: Failed to connect to 127.0.0.1 port {DEADPORT} after 0 "
    .. "ms: Couldn't connect to server; is the service at {DEAD} (--base-url) running?", tags = "#m-cli-msg-connect-hint" },
  { "balance --proxy {DEAD}", 8, "seedance: network_error: Failed to connect to 127.0.0.1 port {DEADPORT} after 0 ms: "
    .. "Couldn't connect to server; is the proxy at {DEAD} (--proxy) running?", tags = "#m-cli-msg-connect-hint" },
  { "balance", 6, "seedance: rate_limit_error (HTTP 429): too many requests; the service is limiting this key's "
    .. "requests (tried 5 times): run the command again later", gateway = "429", tags = "#m-cli-msg-service-later" },
  { "balance", 7, "seedance: service_unavailable (HTTP 503): overloaded; the service is failing (tried 5 times): run "
    .. "the command again later", gateway = "503", tags = "#m-cli-msg-service-later" },
  { "balance", 7, "seedance: bad_gateway (HTTP 502): HTTP 502 with \"<html><body>Bad Gateway</body></html>\" "
    .. "(text/html); the service is failing (tried 5 times): run the command again later", gateway = "html" },
  { "generate --prompt x -q --wait", 9, { "submitted task {TASK}", "seedance: task_failed: task {TASK} failed: video "
    .. "generation failed: the model could not render this request" }, env = { SEEDANCE_BASE_URL = "{FAIL}" } },
  { "generate --prompt x -q --wait --wait-timeout 0.05", 12, { "submitted task {TASK}", "seedance: timeout_error: task "
    .. "{TASK} still pending after 0.05 s (--wait-timeout); task {TASK} was paid for; pick it up with: seedance wait "
    .. "{TASK}" }, env = { SEEDANCE_TIME_SCALE = "1" } },
}

-- A line as a Lua pattern: every character itself, {TASK} any task id.
-- (libcurl's "after N ms" is however long the refused connect took: a loaded machine's is not 0)
local function pattern(line)
  return "^" .. line:gsub("%p", "%%%0"):gsub("%%{TASK%%}", "task_%%w+"):gsub("after 0 ms", "after %%d+ ms") .. "$"
end

-- A JSON value with its strings' placeholders filled.
local function fill(v, sub)
  if type(v) == "string" then return sub(v) end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = fill(x, sub) end
  return out
end

local function lines_of(s)
  local list = {}
  for l in s:gmatch("([^\n]*)\n") do list[#list + 1] = l end
  return list
end

describe("the seedance command's messages #child", function()
  local emu, fail, dir, vars
  setup(function()
    emu = emulator.start{ speed = 200 }
    fail = emulator.start{ speed = 200, fail_rate = 1 }
    dir = process.tmpdir("messages")
    local port = process.free_port()
    vars = { D = dir, URL = emu.url, FAIL = fail.url, DEAD = "http://127.0.0.1:" .. port, DEADPORT = tostring(port),
             ID = ID }
    process.write(dir .. "/ok.json", '{"model":"doubao-seedance-2.0","prompt":"x"}')
    process.write(dir .. "/trailing.json", '{\n  "model": "doubao-seedance-2.0",\n  "prompt": "x",\n}\n')
    process.write(dir .. "/unquoted.json", '{\n  model: "doubao-seedance-2.0"\n}\n')
    process.write(dir .. "/missing-comma.json", '{\n  "model": "doubao-seedance-2.0"\n  "prompt": "小猫"\n}\n')
    process.write(dir .. "/empty.json", "")
    process.write(dir .. "/list.json", '[{"model":"doubao-seedance-2.0"}]')
    process.write(dir .. "/utf16.json", "\255\254{\0}\0")
    process.write(dir .. "/exists.mp4", "an earlier video")
    process.write(dir .. "/empty.key", "")
    process.write(dir .. "/401.key", "sk-test-401\n")
  end)
  teardown(function()
    emu:stop()
    fail:stop()
    process.remove_dir(dir)
  end)

  local function sub(s)
    return (s:gsub("{(%u+)}", function(k) return vars[k] end))
  end

  for _, row in ipairs(ROWS) do
    local args, code, want = row[1], row[2], row[3]
    it(("%s: exit %d %s"):format(args, code, row.tags or ""), function()
      local gw
      local env = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-messages", SEEDANCE_TIME_SCALE = "0.005" }
      if row.gateway then
        local answer = {}
        for k, v in pairs(ANSWERS[row.gateway]) do answer[k] = v end
        answer.name, answer.pattern = row.gateway, "^/"
        gw = gateway.start{ upstream = emu.url, cases = { answer } }
        env.SEEDANCE_BASE_URL = gw.url
      end
      for k, v in pairs(row.env or {}) do env[k] = v and sub(v) or false end
      local before = emu:stats().requests
      local got, out, err = cli.run(sub(args), env)
      if gw then assert.is_true(gw:stop(), gw.stderr) end
      local text = row.json and out or err
      assert.equals(code, got, err .. out)
      local lines = lines_of(text)
      if row.json then
        assert.equals(1, #lines, text)
        assert.same(fill(want, sub), require("cjson").decode(out))
      elseif type(want) == "table" then
        assert.equals(#want, #lines, text)
        for i, w in ipairs(want) do assert.matches(pattern(sub(w)), lines[i]) end
      else
        assert.matches(pattern(sub(want)), lines[1] or "")
        local usage = row.usage
        if usage == nil then usage = want:match("^seedance %a+: ") ~= nil end
        if usage then
          -- a usage error: its line, the usage, the pointer to --help
          local name = want:match("^(seedance ?%a*):")
          assert.matches("^Usage: seedance", lines[2] or "", text)
          assert.equals("Run `" .. name .. " --help` for every flag.", lines[#lines], text)
        else
          assert.equals(1, #lines, text)
        end
      end
      assert.is_nil(text:find("traceback", 1, true), text)
      if code == 2 or code == 10 or (code == 3 and not args:match("^status") and not args:match("^wait")) then
        assert.equals(before, emu:stats().requests, "a refusal before paying sent a request")
      end
    end)
  end
end)
