--- Neovim end-to-end test of editors/nvim against the real heapspot server, run headless by
--- dev/editors-test.sh as `nvim --headless -u NONE -c "luafile test.lua" FILE.go` on Neovim 0.11
--- and 0.7. It loads the module from the repository, calls setup(), and checks the diagnostics
--- (the rule ids of the file's `// want RULE-ID` markers at their lines), the code lenses (the
--- numbers the CLI computes for the same profiles), inlay hints and the :HeapspotTop and
--- :HeapspotLoad commands. The exit code carries the verdict (0 pass, 3 fail); the details go
--- to $HEAPSPOT_TEST_OUT.
local env = vim.env
local repo = assert(env.HEAPSPOT_REPO, 'HEAPSPOT_REPO is not set')
local server = assert(env.HEAPSPOT_BIN, 'HEAPSPOT_BIN is not set')
local out_path = assert(env.HEAPSPOT_TEST_OUT, 'HEAPSPOT_TEST_OUT is not set')
local expect_path = assert(env.HEAPSPOT_EXPECT, 'HEAPSPOT_EXPECT is not set')

local version = vim.version()
local version_text = string.format('%d.%d.%d', version.major, version.minor, version.patch)
local has_010 = vim.fn.has('nvim-0.10') == 1
local has_011 = vim.fn.has('nvim-0.11') == 1

local log = {}
local failures = {}
local passed = 0

local function say(msg)
  table.insert(log, msg)
end

local function check(ok, what)
  if ok then
    passed = passed + 1
    say('ok   ' .. what)
  else
    table.insert(failures, what)
    say('FAIL ' .. what)
  end
  return ok
end

local function finish()
  say(string.format('nvim %s: %d passed, %d failed', version_text, passed, #failures))
  local f = io.open(out_path, 'w')
  if f then
    f:write(table.concat(log, '\n') .. '\n')
    f:close()
  end
  if #failures == 0 and passed > 0 then
    vim.cmd('qa!')
  else
    vim.cmd('cquit 3')
  end
end

local function read_json(path)
  local f = assert(io.open(path, 'r'), 'cannot read ' .. path)
  local text = f:read('*a')
  f:close()
  return vim.fn.json_decode(text)
end

--- The first size in a text ("1.46MB", "1494.18kB", "512B") in bytes, and how far from the true
--- value its printed precision allows it to be (half a unit of its last digit).
local units = { B = 1, kB = 1024, KB = 1024, KiB = 1024, MB = 1024 ^ 2, MiB = 1024 ^ 2, GB = 1024 ^ 3, GiB = 1024 ^ 3 }
local function parse_size(text)
  for number, unit in tostring(text):gmatch('(%d+%.?%d*)%s*(%a+)') do
    if units[unit] then
      local decimals = number:match('%.(%d+)$')
      local step = decimals and 10 ^ -#decimals or 1
      return tonumber(number) * units[unit], step / 2 * units[unit] + 1
    end
  end
  return nil
end

local function size_matches(text, bytes)
  local value, slack = parse_size(text)
  return value ~= nil and math.abs(value - bytes) <= slack
end

local function run()
  local expect = read_json(expect_path)
  vim.opt.runtimepath:prepend(repo .. '/editors/nvim')
  local heapspot = require('heapspot')
  heapspot.setup({ cmd = { server, 'lsp' }, settings = { sampleType = 'inuse_space' } })
  -- With -u NONE filetype detection is off: turning it on attaches the server through the
  -- FileType event, as in a normal configuration.
  vim.cmd('filetype on')
  vim.cmd('filetype detect')
  local bufnr = vim.api.nvim_get_current_buf()
  local file = vim.api.nvim_buf_get_name(bufnr)
  say('file ' .. file)

  local function client()
    return heapspot.client()
  end
  check(vim.wait(10000, function()
    return client() ~= nil and client().initialized ~= false
  end, 20), 'the heapspot client attaches to the Go buffer')
  if not client() then
    return
  end

  -- The want markers of this file: { line (1-based) = { rule ids } }.
  local wants = {}
  local want_count = 0
  for i, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local rules = text:match('// want (.+)$')
    if rules then
      wants[i] = vim.split(vim.trim(rules), '%s+')
      want_count = want_count + #wants[i]
    end
  end
  check(want_count > 0, 'the fixture file has want markers')

  local function heapspot_diagnostics()
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.source == 'heapspot' then
        table.insert(found, d)
      end
    end
    return found
  end
  local function has_diagnostic(line, rule)
    for _, d in ipairs(heapspot_diagnostics()) do
      if d.lnum == line - 1 and d.code == rule then
        return true
      end
    end
    return false
  end
  local function all_wants_present()
    for line, rules in pairs(wants) do
      for _, rule in ipairs(rules) do
        if not has_diagnostic(line, rule) then
          return false
        end
      end
    end
    return true
  end
  vim.wait(20000, all_wants_present, 50)
  for line, rules in pairs(wants) do
    for _, rule in ipairs(rules) do
      check(has_diagnostic(line, rule), string.format('diagnostic %s at line %d', rule, line))
    end
  end
  for _, d in ipairs(heapspot_diagnostics()) do
    say(string.format('  diagnostic line %d %s [%s]: %s', d.lnum + 1, tostring(d.code),
      vim.diagnostic.severity[d.severity] or '?', (d.message or ''):gsub('\n', ' ')))
  end

  -- Code lenses: the titles the server resolved, with the numbers the CLI gives for the same profiles.
  local function lens_titles()
    local titles = {}
    for _, lens in ipairs(vim.lsp.codelens.get(bufnr) or {}) do
      if lens.command and lens.command.title and lens.command.title ~= '' then
        titles[lens.range.start.line + 1] = lens.command.title
      end
    end
    return titles
  end
  local function lens_ok()
    for _, want in ipairs(expect.lenses or {}) do
      local title = lens_titles()[want.line]
      if not title or title:sub(1, #want.prefix) ~= want.prefix or not size_matches(title, want.bytes) then
        return false
      end
    end
    return true
  end
  if not has_010 then
    -- 0.7 refreshes the current buffer's lenses on the events setup() registers; ask once more now
    -- that the server has analysed the workspace.
    vim.lsp.codelens.refresh()
  end
  vim.wait(15000, function()
    if not lens_ok() then
      if has_010 then
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      else
        vim.lsp.codelens.refresh()
      end
      vim.wait(300)
      return false
    end
    return true
  end, 100)
  check(#(expect.lenses or {}) > 0, 'the expectations name code lenses')
  local titles = lens_titles()
  for _, want in ipairs(expect.lenses or {}) do
    local title = titles[want.line]
    check(title ~= nil and title:sub(1, #want.prefix) == want.prefix and size_matches(title, want.bytes),
      string.format('code lens at line %d: %s with %d bytes of %s (got %q)', want.line, want.prefix, want.bytes,
        want['function'], tostring(title)))
  end
  for line, title in pairs(titles) do
    say(string.format('  lens line %d: %s', line, title))
  end

  -- Inlay hints: through the client's API on 0.10+, as a plain request on older versions.
  local function hint_label(hint)
    local label = hint.label
    if type(label) == 'table' then
      local parts = {}
      for _, part in ipairs(label) do
        table.insert(parts, part.value)
      end
      label = table.concat(parts)
    end
    return label
  end
  local function hints()
    local found = {}
    if has_010 then
      for _, item in ipairs(vim.lsp.inlay_hint.get({ bufnr = bufnr }) or {}) do
        found[item.inlay_hint.position.line + 1] = hint_label(item.inlay_hint)
      end
    else
      local params = {
        textDocument = vim.lsp.util.make_text_document_params(bufnr),
        range = { start = { line = 0, character = 0 }, ['end'] = { line = vim.api.nvim_buf_line_count(bufnr), character = 0 } },
      }
      local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/inlayHint', params, 5000) or {}
      for _, response in pairs(responses) do
        for _, hint in ipairs(response.result or {}) do
          found[hint.position.line + 1] = hint_label(hint)
        end
      end
    end
    return found
  end
  if has_011 then
    check(vim.lsp.inlay_hint.is_enabled({ bufnr = bufnr }), 'setup() enables inlay hints for the buffer')
  end
  local function hints_ok()
    for _, want in ipairs(expect.hints or {}) do
      local label = hints()[want.line]
      if not label or not size_matches(label, want.bytes) then
        return false
      end
    end
    return true
  end
  vim.wait(10000, hints_ok, 100)
  check(#(expect.hints or {}) > 0, 'the expectations name inlay hints')
  local found_hints = hints()
  for _, want in ipairs(expect.hints or {}) do
    local label = found_hints[want.line]
    check(label ~= nil and size_matches(label, want.bytes),
      string.format('inlay hint at line %d shows %d bytes (got %q)', want.line, want.bytes, tostring(label)))
  end
  for line, label in pairs(found_hints) do
    say(string.format('  hint line %d: %s', line, label))
  end

  -- Hover on the want line: the server's markdown, as vim.lsp.buf.hover() would show it.
  local hover_line = expect.hover.line
  local col = (vim.api.nvim_buf_get_lines(bufnr, hover_line - 1, hover_line, false)[1] or ''):find('%S') or 1
  local hover_params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    position = { line = hover_line - 1, character = col - 1 },
  }
  local hover_text = ''
  for _, response in pairs(vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', hover_params, 5000) or {}) do
    local contents = response.result and response.result.contents
    if type(contents) == 'table' then
      hover_text = hover_text .. (contents.value or '')
    elseif type(contents) == 'string' then
      hover_text = hover_text .. contents
    end
  end
  local own_at = hover_text:find('heapspot** ·', 1, true)
  check(own_at ~= nil and size_matches(hover_text:sub(own_at), expect.hover.bytes),
    string.format("the hover on line %d shows the line's %d bytes (got %q)", hover_line, expect.hover.bytes,
      own_at and hover_text:sub(own_at, own_at + 60) or hover_text:sub(1, 80)))
  local all_types = true
  for _, sample_type in ipairs(expect.hover.sampleTypes) do
    if not hover_text:find(sample_type, 1, true) then
      all_types = false
    end
  end
  check(all_types, 'the hover lists every sample type')
  local sparkline = false
  for _, bar in ipairs({ '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█' }) do
    if hover_text:find(bar, 1, true) then
      sparkline = true
    end
  end
  check(sparkline, 'the hover has a trend sparkline')

  -- :HeapspotTop fills the quickfix list with workspace locations.
  vim.fn.setqflist({}, 'r')
  vim.cmd('HeapspotTop 10')
  local function qf_valid()
    local n = 0
    for _, item in ipairs(vim.fn.getqflist()) do
      if item.valid == 1 and item.bufnr > 0 and item.lnum > 0 then
        n = n + 1
      end
    end
    return n
  end
  vim.wait(5000, function()
    return qf_valid() > 0
  end, 50)
  local qf = vim.fn.getqflist()
  check(#qf > 0 and #qf <= 10, string.format(':HeapspotTop 10 lists up to 10 rows (got %d)', #qf))
  check(qf_valid() > 0, ':HeapspotTop rows open workspace files at their lines')
  local top_line = false
  for _, item in ipairs(qf) do
    if item.valid == 1 and vim.api.nvim_buf_get_name(item.bufnr) == file and item.lnum == expect.topLine then
      top_line = true
    end
  end
  check(top_line, string.format(':HeapspotTop lists %s:%d', file, expect.topLine))
  vim.cmd('cclose')

  -- :HeapspotCapture saves a snapshot from the endpoint into the workspace's snapshot store,
  -- and it joins the loaded series.
  local root = file:sub(1, #file - #expect.file - 1)
  local capture_url = env.HEAPSPOT_CAPTURE_URL
  check(capture_url ~= nil, 'HEAPSPOT_CAPTURE_URL names an endpoint to capture from')
  if capture_url then
    local store = root .. '/.heapspot/snapshots/*'
    local before = #vim.fn.glob(store, false, true)
    heapspot.status = nil
    vim.cmd('HeapspotCapture ' .. capture_url)
    vim.wait(15000, function()
      return #vim.fn.glob(store, false, true) > before and heapspot.status ~= nil
    end, 50)
    local saved = vim.fn.glob(store, false, true)
    check(#saved == before + 1, string.format(':HeapspotCapture %s saves one snapshot in .heapspot/snapshots (%d)', capture_url, #saved))
    local joined = false
    for _, p in ipairs((heapspot.status or {}).profiles or {}) do
      if saved[#saved] and p == saved[#saved] then
        joined = true
      end
    end
    check(joined, 'the captured snapshot joins the loaded profiles')
  end

  -- :HeapspotLoad replaces the profiles and the server reports the new set.
  local first = root .. '/profiles/' .. vim.fn.fnamemodify(expect.profiles[1], ':t')
  heapspot.status = nil
  vim.cmd('HeapspotLoad ' .. vim.fn.fnameescape(first))
  vim.wait(10000, function()
    return heapspot.status ~= nil and heapspot.status.profiles ~= nil and #heapspot.status.profiles == 1
  end, 50)
  local status = heapspot.status or {}
  check(status.profiles ~= nil and #status.profiles == 1 and status.profiles[1] == first,
    string.format(':HeapspotLoad %s leaves exactly that profile loaded (got %s)', first, vim.inspect(status.profiles)))
  check(heapspot.statusline():find('1 profile', 1, true) ~= nil, 'statusline() names the loaded profile count')
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  check(false, 'test error: ' .. tostring(err))
end
finish()
