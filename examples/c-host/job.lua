--- The Lua side of the C host (host.c): starts a generate + download job in
-- a seedance coroutine and tells the host how it goes. The host calls
-- seedance.step(0) every frame; nothing here blocks.
local seedance = require("seedance")

local job = { text = "starting", done = false }

--- Start generating a video into `path` (the coroutine first runs at the next step).
-- @tparam string path where the video goes
function job.start(path)
  local client = seedance.new()   -- SEEDANCE_API_KEY, SEEDANCE_BASE_URL
  seedance.spawn(function()
    local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "a lighthouse in a storm",
                                       duration = 5 }
    if not task then job.text, job.done = "failed: " .. tostring(err), true; return end
    local ok
    ok, err = task:wait{ on_progress = function(t)
      job.text = string.format("%s %d%%", t.status, t.progress or 0)
    end }
    if not ok then job.text, job.done = "failed: " .. tostring(err), true; return end
    local saved
    saved, err = task:download(path, { on_progress = function(done, total)
      job.text = string.format("downloading %d/%d bytes", done, total or 0)
    end })
    job.text, job.done = saved and ("saved " .. saved) or ("failed: " .. tostring(err)), true
  end)
end

--- What to show this frame, and whether the job has ended.
-- @treturn string a status line
-- @treturn boolean true once the job ended (saved or failed)
function job.status()
  return job.text, job.done
end

return job
