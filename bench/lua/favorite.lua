-- Favorite then unfavorite: POST and DELETE alternate over the slugs given as
-- script arguments (wrk ... -- slug1 slug2 ...), against URL .../api/articles/.
local slugs = {}
local n = 0

function init_endpoint(args)
  for _, slug in ipairs(args) do
    table.insert(slugs, slug)
  end
  -- threads start at different slugs so they do not all toggle the same row
  n = math.random(0, #slugs - 1) * 2
end

function make_request()
  n = n + 1
  local slug = slugs[(math.floor((n - 1) / 2) % #slugs) + 1]
  local method = (n % 2 == 1) and "POST" or "DELETE"
  return wrk.format(method, wrk.path .. slug .. "/favorite")
end
