-- seedance.errors and the one table of error types (seedance.error_types):
-- what a type means for retries, for an HTTP status and for the command's exit code.
local errors = require("seedance.errors")
local error_types = require("seedance.error_types")
local http = require("seedance.http")
local exit = require("seedance.cli.exit")

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
