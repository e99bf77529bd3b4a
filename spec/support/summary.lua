-- busted output handler: the usual terminal output, then one plain closing line
-- "N passed, N failed, N skipped" that CI logs and people can read at a glance.
return function(options)
  local busted = require("busted")
  local handler = require("busted.outputHandlers.utfTerminal")(options)
  busted.subscribe({ "suite", "end" }, function()
    io.write(string.format("\nbusted: %d passed, %d failed, %d skipped\n",
      handler.successesCount, handler.failuresCount + handler.errorsCount, handler.pendingsCount))
    io.flush()
    return nil, true
  end)
  return handler
end
