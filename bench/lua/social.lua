-- Follow, unfollow and a profile update in turn (the writes that become events):
-- POST and DELETE /profiles/{u}/follow over the usernames given as script arguments,
-- then PUT /user with a new bio, against URL .../api/.
local names = {}
local n = 0
local headers = {}

function init_endpoint(args)
  for _, name in ipairs(args) do
    table.insert(names, name)
  end
  n = math.random(0, #names - 1) * 3
end

function make_request()
  n = n + 1
  local step = n % 3
  local name = names[(math.floor((n - 1) / 3) % #names) + 1]
  if step == 1 then
    return wrk.format("POST", wrk.path .. "profiles/" .. name .. "/follow")
  elseif step == 2 then
    return wrk.format("DELETE", wrk.path .. "profiles/" .. name .. "/follow")
  end
  local h = {}
  for key, value in pairs(wrk.headers) do
    h[key] = value
  end
  h["Content-Type"] = "application/json"
  return wrk.format("PUT", wrk.path .. "user", h,
                    '{"user": {"bio": "bench bio ' .. n .. '"}}')
end
