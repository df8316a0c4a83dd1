-- Argument checks, put in front of every script (see scripts/mod.rs). A script runs all of
-- its checks before its first write: Redis does not undo a script that fails half-way, so a
-- check after a write could leave half a change behind. A failed check is returned as the
-- error reply `WW_INVALID <what is wrong>`; nothing was changed.
-- Each check returns that reply, or nil when the value is fine, so a script reads
--   local bad = check_a(...) or check_b(...)  if bad then return bad end
local ID_MAX = 9007199254740991 -- 2^53 - 1: the largest whole number a Lua number holds exactly

local function invalid(message)
  return redis.error_reply('WW_INVALID ' .. message)
end

-- Exactly `keys` keys (at least, when `more` is true) and exactly `args` arguments.
local function counts(keys, args, more)
  if #KEYS < keys or (#KEYS > keys and not more) then
    return invalid('expected ' .. keys .. ' keys, got ' .. #KEYS)
  end
  if #ARGV ~= args then return invalid('expected ' .. args .. ' arguments, got ' .. #ARGV) end
end

-- A whole number in plain decimal digits (no sign but an optional minus, no exponent, no
-- "nan" or "inf", which Lua's tonumber would accept) within [min, max].
local function integer(text, what, min, max)
  if type(text) ~= 'string' or #text > 17 or not string.match(text, '^%-?%d+$') then
    return invalid(what .. ' must be a whole number, got "' .. string.sub(tostring(text), 1, 40) .. '"')
  end
  local n = tonumber(text)
  if n < min or n > max then
    return invalid(string.format('%s must lie between %d and %d, got %s', what, min, max, text))
  end
end

-- A decimal number (digits, an optional minus and an optional fraction) within [min, max].
local function number(text, what, min, max)
  if type(text) ~= 'string' or #text > 32
      or not (string.match(text, '^%-?%d+$') or string.match(text, '^%-?%d+%.%d+$')) then
    return invalid(what .. ' must be a decimal number, got "' .. string.sub(tostring(text), 1, 40) .. '"')
  end
  local n = tonumber(text)
  if n < min or n > max then
    return invalid(string.format('%s must lie between %s and %s, got %s', what, min, max, text))
  end
end

-- A string of 1 to `max` bytes.
local function filled(text, what, max)
  if type(text) ~= 'string' or text == '' then return invalid(what .. ' must not be empty') end
  if #text > max then return invalid(what .. ' must be at most ' .. max .. ' bytes long') end
end

-- A string of at most `max` bytes (possibly empty).
local function short(text, what, max)
  if type(text) ~= 'string' or #text > max then
    return invalid(what .. ' must be at most ' .. max .. ' bytes long')
  end
end

-- One of the listed words.
local function one_of(text, what, words)
  for _, word in ipairs(words) do
    if text == word then return nil end
  end
  return invalid(what .. ' must be one of ' .. table.concat(words, ', ') .. ', got "'
    .. string.sub(tostring(text), 1, 40) .. '"')
end

-- Lowercase hexadecimal of exactly `len` digits (a token hash).
local function hex(text, what, len)
  if type(text) ~= 'string' or #text ~= len or not string.match(text, '^[0-9a-f]+$') then
    return invalid(what .. ' must be ' .. len .. ' lowercase hexadecimal digits')
  end
end

-- A JSON object.
local function json_object(text, what)
  local ok, decoded = pcall(cjson.decode, text)
  if not ok or type(decoded) ~= 'table' then return invalid(what .. ' must be a JSON object') end
end

-- A key that is absent or holds the given type (a write to a key of another type would fail
-- half-way through the script).
local function holds(key, what, expected)
  local found = redis.call('TYPE', key).ok
  if found ~= 'none' and found ~= expected then
    return invalid(what .. ' holds a ' .. found .. ', not a ' .. expected)
  end
end
-- (end of the checks)
