-- Specs for the emulator's scripted content moderation (--refuse-word,
-- --flag-word), its models beyond the built-in ones (--model-rules, the
-- validator's own rules as data) and its billing (--bill-at), driven by curl.
local cjson = require("cjson")
local curl = require("helpers.curl")
local emulator = require("helpers.emulator")
local util = require("helpers.util")

local with, submit, wait_done, http = curl.with, curl.submit, curl.wait_done, curl.http
local cleanup = util.cleanup()

describe("seedance-emulator moderation #emulator #child", function()
  it("--refuse-word refuses a submit whose prompt or URL holds it, naming the input; nothing is made or billed #m-emu-refuse-word", function()
    local emu = cleanup(emulator.start{ speed = 200, refuse_word = "forbidden" })
    local r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ prompt = "a forbidden dance" } })
    assert.equals(400, r.status)
    assert.equals("InputTextSensitiveContentDetected", r.json.error.code)
    assert.equals("invalid_request_error", r.json.error.type)
    assert.matches("(prompt)", r.json.error.message, nil, true)
    r = http("POST", emu.url .. "/v1/videos/generations", { json = with{
      image_urls = { "https://e.x/ok.png", "https://e.x/forbidden.png" } } })
    assert.equals(400, r.status)
    assert.equals("InputImageSensitiveContentDetected", r.json.error.code)
    assert.matches("(image_urls[2])", r.json.error.message, nil, true)
    submit(emu, with{ prompt = "a harmless dance" })
    local s = emu:stats()
    assert.equals(1, s.tasks_created)
    assert.equals(2, s.moderation_refusals)
    assert.equals(5, s.used_balance)
  end)

  it("--flag-word fails a task with the native code and the service's message, naming the input #m-emu-flag-word", function()
    local emu = cleanup(emulator.start{ speed = 200, flag_word = "privacy=InputImageSensitiveContentDetected.PrivacyInformation" })
    local id = submit(emu, with{ image_urls = { "https://e.x/a.png", "https://e.x/privacy.png" } })
    local data = wait_done(emu, id)
    assert.equals("failed", data.status)
    assert.equals("InputImageSensitiveContentDetected.PrivacyInformation", data.error.code)
    assert.matches("input image (image_urls[2]) may contain real people's private information",
      data.error.message, nil, true)
    local ok_id = submit(emu, with{ prompt = "a calm lake" })
    assert.equals("completed", wait_done(emu, ok_id).status)
    assert.equals(1, emu:stats().moderation_failures)
  end)

  it("--flag-word takes several words: the output video, the generated audio", function()
    local emu = cleanup(emulator.start{ speed = 200, flag_word = { "nude=OutputVideoSensitiveContentDetected",
                                                                   "loud=OutputAudioSensitiveContentDetected" } })
    local v = wait_done(emu, (submit(emu, with{ prompt = "a nude statue" })))
    assert.equals("OutputVideoSensitiveContentDetected", v.error.code)
    assert.matches("output video may contain sensitive information", v.error.message, nil, true)
    local a = wait_done(emu, (submit(emu, with{ prompt = "a loud song" })))
    assert.equals("OutputAudioSensitiveContentDetected", a.error.code)
    assert.matches("generated audio may contain sensitive information", a.error.message, nil, true)
  end)

  it("refuses a bad --flag-word, --bill-at or --model-rules with status 2", function()
    local rules = util.tmpfile("rules.json")
    curl.write_file(rules, '{"m": {"like": "nobody"}}')
    finally(function() os.remove(rules) end)
    for _, args in ipairs{ "--flag-word nocode", "--flag-word 'x=a code'", "--bill-at never",
                           "--model-rules " .. curl.q(rules), "--model-rules /nonexistent/rules.json" } do
      local _, ok, code = curl.run(curl.q(emulator.bin) .. " " .. args .. " 2>/dev/null")
      assert.is_falsy(ok, args)
      assert.equals(2, code, args)
    end
  end)
end)

describe("seedance-emulator --model-rules #emulator #child", function()
  it("takes a model its file describes, with the validator's own rules #m-emu-model-rules", function()
    local rules = util.tmpfile("rules.json")
    curl.write_file(rules, cjson.encode{ ["doubao-seedance-2.5"] = { like = "doubao-seedance-2.0",
      duration = { max = 30 } } })
    local emu = emulator.start{ speed = 200, model_rules = rules }
    finally(function() emu:stop(); os.remove(rules) end)
    local id = submit(emu, with{ model = "doubao-seedance-2.5", duration = 30 })
    assert.equals("completed", wait_done(emu, id, 20).status)
    local r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ duration = 30 } })
    assert.equals(400, r.status) -- 2.0 keeps 4 to 15
    r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ model = "doubao-seedance-9" } })
    assert.equals(400, r.status)
    assert.matches("unknown model", r.json.error.message)
  end)

  it("agrees with seedance.validate on the built-in models (one validator)", function()
    local seedance = require("seedance")
    local emu = emulator.start{ speed = 200 }
    finally(function() emu:stop() end)
    for _, c in ipairs{ with{ model = "doubao-seedance-2.0-fast", resolution = "1080p" },
                        with{ model = "doubao-seedance-2.0-face", image_urls = { "asset://a" } },
                        with{ resolution = "1080p", duration = 15 }, with{ duration = 16 },
                        with{ model = "doubao-seedance-2.0-fast-face", resolution = "720p" } } do
      local r = http("POST", emu.url .. "/v1/videos/generations", { json = c })
      assert.equals(seedance.validate(c) and 200 or 400, r.status, cjson.encode(c))
    end
  end)
end)

describe("seedance-emulator --bill-at #emulator #child", function()
  it("submit (the default) bills a task at its submit; completion bills it when it completes, a failed one never #m-emu-bill-at", function()
    local emu = emulator.start{ speed = 200, bill_at = "completion", flag_word = "bad=OutputVideoSensitiveContentDetected" }
    local at_submit = emulator.start{ speed = 200 }
    finally(function() emu:stop(); at_submit:stop() end) -- (one finally per spec: busted keeps the last one)
    local ok_id = submit(emu, with{ duration = 6 })
    local bad_id = submit(emu, with{ prompt = "a bad one", duration = 7 })
    assert.equals(0, http("GET", emu.url .. "/v1/balance").json.used_balance)
    assert.equals("completed", wait_done(emu, ok_id).status)
    assert.equals("failed", wait_done(emu, bad_id).status)
    local bal = http("GET", emu.url .. "/v1/balance").json
    assert.equals(6, bal.used_balance)
    assert.equals(1000000 - 6, bal.remain_balance)
    submit(at_submit, with{ duration = 6 })
    assert.equals(6, http("GET", at_submit.url .. "/v1/balance").json.used_balance)
  end)
end)
