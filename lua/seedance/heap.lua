--- A binary min-heap of tables ordered by their `at` field (a time in
-- seconds), shared by the scheduler's timers and `map`'s waiters.
-- The heap is a plain array: `h[1]` is the entry due first.
-- @module seedance.heap
local M = {}

local floor = math.floor

--- Add entry `e` (a table with a numeric `at`) to heap `h`.
-- @tparam table h the heap (an array)
-- @tparam table e the entry
function M.push(h, e)
  local i = #h + 1
  h[i] = e
  while i > 1 do
    local p = floor(i / 2)
    if h[p].at <= e.at then break end
    h[p], h[i] = h[i], h[p]
    i = p
  end
end

--- Remove and return the entry with the smallest `at` (nil when `h` is empty).
-- @tparam table h the heap
-- @treturn table|nil the entry
function M.pop(h)
  local n, top = #h, h[1]
  if n == 0 then return nil end
  h[1] = h[n]
  h[n] = nil
  n = n - 1
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= n and h[l].at < h[m].at then m = l end
    if r <= n and h[r].at < h[m].at then m = r end
    if m == i then break end
    h[m], h[i] = h[i], h[m]
    i = m
  end
  return top
end

return M
