-- seedance.errors and the one table of error types (seedance.error_types):
-- what a type means for retries, for an HTTP status and for the command's exit code;
-- and content-moderation failures told apart from other failures (kind =
-- "moderation"), with the input the service names, from the service's code,
-- type or message, pure and networkless.
local errors = require("seedance.errors")
local error_types = require("seedance.error_types")
local http = require("seedance.http")
local exit = require("seedance.cli.exit")
local json = require("seedance.json")

-- The error a service's JSON answer of `status` makes, its error object { type, message }.
local function answer(status, type, message)
  return http.answer_error{ status = status, headers = {}, body = json.encode{ error = { type = type, message = message } } }
end

describe("seedance.error_types", function()
  it("gives each error type its retry, its HTTP status and its exit code from one row #m-error-types-one-table", function()
    for _, row in ipairs(error_types.list) do
      local e = errors.new{ type = row.name, message = "m" }
      assert.equals(row.retryable == true, e.retryable, row.name .. ": retryable")
      assert.equals(row.exit, exit.code(e), row.name .. ": exit code")
      if row.status then
        assert.equals(row.name, http.status_type(row.status), row.name .. ": HTTP " .. row.status)
        assert.equals(row.retryable == true, http.retryable_status(row.status), row.name .. ": retry by status")
      end
    end
    -- the transient ones, as the service's contract says
    for _, t in ipairs{ "rate_limit_error", "server_error", "bad_gateway", "service_unavailable",
                        "gateway_timeout", "network_error" } do
      assert.is_true(errors.new{ type = t }.retryable, t)
    end
    for _, t in ipairs{ "invalid_request_error", "authentication_error", "payment_required", "tls_error",
                        "io_error", "validation_error", "something_new" } do
      assert.is_false(errors.new{ type = t }.retryable, t)
    end
  end)

  it("keeps a retryable the caller gave", function()
    assert.is_true(errors.new{ type = "timeout_error", retryable = true }.retryable)
    assert.is_false(errors.new{ type = "network_error", retryable = false }.retryable)
  end)

  it("names every type once and gives each a doc line and an exit code", function()
    local seen = {}
    for _, row in ipairs(error_types.list) do
      assert.is_nil(seen[row.name], row.name .. " twice")
      seen[row.name] = true
      assert.matches("%S", row.doc, row.name)
      assert.is_number(row.exit, row.name)
    end
  end)
end)

describe("seedance.errors.moderation", function()
  local cases = {
    -- code, message, input
    { "InputImageSensitiveContentDetected.PrivacyInformation",
      "The request failed because the input image (image_urls[2]) may contain real people's private information.",
      "image_urls[2]" },
    { "InputImageSensitiveContentDetected", "The request failed because the input image may contain sensitive "
      .. "information.", "image_urls" },
    { "InputTextSensitiveContentDetected", "The request failed because the input text may contain sensitive "
      .. "information.", "prompt" },
    { "OutputVideoSensitiveContentDetected", "The request failed because the output video may contain sensitive "
      .. "information.", "output" },
    { "OutputAudioSensitiveContentDetected", "The request failed because the generated audio may contain sensitive "
      .. "information.", "audio" },
    { "InputVideoSensitiveContentDetected", "the input video (video_urls[1]) may contain sensitive information",
      "video_urls[1]" },
    { 500, "output video may contain sensitive information", "output" },
    { 400, "generated audio flagged by content moderation", "audio" },
    { 400, "输入文本可能包含敏感信息", nil },
    { "InputImageSensitiveContentDetected", "image_with_roles[3] was refused", "image_with_roles[3]" },
  }
  for _, c in ipairs(cases) do
    it("takes " .. tostring(c[1]) .. " (" .. c[2]:sub(1, 40) .. ") for moderation of " .. tostring(c[3])
      .. " #m-moderation-input", function()
      local hit, input = errors.moderation{ code = c[1], message = c[2], type = "invalid_request_error" }
      assert.is_true(hit)
      assert.equals(c[3], input)
    end)
  end

  it("leaves other failures alone", function()
    for _, e in ipairs{
      { code = 500, message = "video generation failed: the model could not render this request",
        type = "generation_failed" },
      { code = 400, message = "duration: must be between 4 and 15, got 99", type = "invalid_request_error" },
      { code = 429, message = "too many requests", type = "rate_limit_error" },
      {}, { message = 5 },
    } do
      assert.is_false((errors.moderation(e)))
    end
    assert.is_false((errors.moderation(nil)))
  end)
end)

describe("errors.classify", function()
  it("marks a moderation failure kind = moderation, never retryable #m-moderation-kind", function()
    local e = errors.classify(errors.new{ type = "server_error", status = 500, message = "x" },
      { code = "OutputVideoSensitiveContentDetected", message = "The output video may contain sensitive information" })
    assert.equals("moderation", e.kind)
    assert.equals("output", e.input)
    assert.is_false(e.retryable)
    local plain = errors.classify(errors.new{ type = "server_error", message = "boom" }, { message = "boom" })
    assert.is_nil(plain.kind)
    assert.is_true(plain.retryable)
  end)

  it("an answer refusing a submit for sensitive content is a moderation error naming the input, kept code and all #m-moderation-kind", function()
    local body = json.encode{ error = { code = "InputTextSensitiveContentDetected", type = "invalid_request_error",
      message = "The request failed because the input text (prompt) may contain sensitive information." } }
    local e = http.answer_error{ status = 400, body = body, headers = {} }
    assert.equals("invalid_request_error", e.type)
    assert.equals("InputTextSensitiveContentDetected", e.code)
    assert.equals("moderation", e.kind)
    assert.equals("prompt", e.input)
    -- a 503 for sensitive content (a gateway that says so) is not retried either
    local busy = answer(503, "service_unavailable", "moderation: output video may contain sensitive information")
    assert.equals("moderation", busy.kind)
    assert.is_false(busy.retryable)
    -- an HTML page that happens to say "sensitive" is no moderation answer
    local page = http.answer_error{ status = 502, headers = {}, body = "<html>sensitive upstream</html>" }
    assert.is_nil(page.kind)
  end)

  it("#found a rate limit that names moderation is no verdict: retried as a rate limit #m-moderation-no-rate-limit", function()
    local e = answer(429, "rate_limit_error", "too many requests to the content moderation service")
    assert.is_nil(e.kind)
    assert.is_true(e.retryable)
  end)

  it("#found \"case-insensitive\" is no word of a moderation verdict #m-moderation-not-insensitive", function()
    local e = answer(400, "invalid_request_error", "size: must be one of 16:9, 9:16 (case-insensitive)")
    assert.is_nil(e.kind)
    assert.is_false((errors.moderation{ code = "InvalidParameter", message = "header names are case-insensitive" }))
    assert.is_true((errors.moderation{ message = "insensitive words aside, the prompt is sensitive" }))
    assert.is_true((errors.moderation{ code = "InputTextSensitiveContentDetected" }))
  end)
end)
