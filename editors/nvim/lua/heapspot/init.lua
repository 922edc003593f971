--- heapspot for Neovim: starts `heapspot lsp` for Go buffers and adds the :Heapspot* commands.
--- All analysis happens in the server; this module only wires Neovim's LSP client to it.
---
--- Neovim 0.11+ uses vim.lsp.config/vim.lsp.enable; older versions (0.7 and up) use
--- vim.lsp.start_client and vim.lsp.buf_attach_client.
local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1
local has_010 = vim.fn.has('nvim-0.10') == 1

--- The options as last given to setup(), with defaults filled in.
M.options = nil
--- The last status object the server pushed (`heapspot/status`), or nil.
M.status = nil

local defaults = {
  -- The server command; HEAPSPOT_SERVER names the executable when set.
  cmd = nil,
  -- The settings object of the server (see docs/lsp.md): profiles, goroutineProfiles, baseline,
  -- endpoints, pollIntervalSeconds, snapshots, sampleType, thresholds, rules, codeLens, inlayHints.
  settings = {},
  filetypes = { 'go' },
  root_markers = { '.heapspot.toml', 'go.work', 'go.mod', '.git' },
  -- Called as on_attach(client, bufnr) after heapspot's own attach work.
  on_attach = nil,
  capabilities = nil,
}

local function notify(msg, level)
  vim.notify('heapspot: ' .. msg, level or vim.log.levels.INFO)
end

local function get_clients(bufnr)
  local clients
  if vim.lsp.get_clients then
    clients = vim.lsp.get_clients({ name = 'heapspot', bufnr = bufnr })
  else
    clients = {}
    local attached = bufnr and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_active_clients()
    for _, client in pairs(attached) do
      if client.name == 'heapspot' then
        table.insert(clients, client)
      end
    end
  end
  return clients
end

--- The heapspot client of the current buffer, else any running heapspot client.
function M.client()
  local clients = get_clients(vim.api.nvim_get_current_buf())
  if #clients == 0 then
    clients = get_clients(nil)
  end
  return clients[1]
end

local function client_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Runs one of the server's commands (workspace/executeCommand) and calls on_result(result) on
--- success; a server error is shown with vim.notify.
function M.execute(command, arguments, on_result)
  local client = M.client()
  if not client then
    notify('the language server is not running; open a Go file first', vim.log.levels.ERROR)
    return
  end
  local params = { command = command, arguments = arguments or {} }
  client_request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      notify(command .. ': ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, vim.api.nvim_get_current_buf())
end

local function json_object(tbl)
  if tbl == nil or next(tbl) == nil then
    return vim.empty_dict()
  end
  return tbl
end

--- A one-line summary of the last status: profiles, sample type, total and trend.
function M.statusline()
  local s = M.status
  if not s then
    return ''
  end
  local count = s.profiles and #s.profiles or 0
  local parts = { count == 1 and '1 profile' or (count .. ' profiles') }
  if count > 0 then
    if s.sampleType and s.sampleType ~= vim.NIL then
      table.insert(parts, s.sampleType)
    end
    local total = (s.totalText ~= vim.NIL and s.totalText) or ''
    local growth = s.growthPerSnapshot
    if type(growth) == 'number' and growth ~= 0 then
      total = total .. (growth > 0 and ' ▲' or ' ▼')
      if type(s.growthText) == 'string' then
        total = total .. ' ' .. s.growthText
      end
    end
    if total ~= '' then
      table.insert(parts, total)
    end
  end
  return 'heapspot: ' .. table.concat(parts, ' · ')
end

local function refresh_lenses(bufnr)
  if M.options and M.options.settings.codeLens == false then
    return
  end
  if not vim.api.nvim_buf_is_valid(bufnr) or #get_clients(bufnr) == 0 then
    return
  end
  if has_010 then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
  elseif bufnr == vim.api.nvim_get_current_buf() then
    vim.lsp.codelens.refresh()
  end
end

local function refresh_all_lenses()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      refresh_lenses(bufnr)
    end
  end
end

--- Fills the quickfix list with the rows of a top object and opens it.
function M.set_top_quickfix(top)
  local items = {}
  for _, row in ipairs(top.rows or {}) do
    local text = string.format('%s (%.1f%%) cum %s (%.1f%%) %s', row.flatText, row.flatPercent, row.cumText,
      row.cumPercent, row['function'])
    if type(row.file) == 'string' and type(row.line) == 'number' then
      table.insert(items, { filename = row.file, lnum = row.line, col = 1, text = text })
    else
      table.insert(items, { text = text .. ' (outside the workspace)', valid = 0 })
    end
  end
  vim.fn.setqflist({}, ' ', {
    title = string.format('heapspot top: %s, total %s', tostring(top.sampleType), tostring(top.totalText)),
    items = items,
  })
  vim.cmd('copen')
end

local handlers = {
  ['heapspot/status'] = function(_, result)
    M.status = result
    vim.schedule(function()
      vim.api.nvim_exec_autocmds('User', { pattern = 'HeapspotStatus', modeline = false })
      refresh_all_lenses()
    end)
  end,
}
if not has_010 then
  -- Older Neovim has no handler for the server's lens refresh request.
  handlers['workspace/codeLens/refresh'] = function()
    vim.schedule(refresh_all_lenses)
    return vim.NIL
  end
end

-- A code lens runs heapspot.showTop: show its rows in the quickfix list.
vim.lsp.commands['heapspot.showTop'] = function(command)
  M.execute('heapspot.showTop', command.arguments, M.set_top_quickfix)
end

local function on_attach(client, bufnr)
  local opts = M.options
  if opts.settings.codeLens ~= false then
    local group = vim.api.nvim_create_augroup('heapspot_lens_' .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
      group = group,
      buffer = bufnr,
      callback = function()
        refresh_lenses(bufnr)
      end,
    })
    refresh_lenses(bufnr)
  end
  if has_010 and opts.settings.inlayHints ~= false and vim.lsp.inlay_hint then
    vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
  end
  if opts.on_attach then
    opts.on_attach(client, bufnr)
  end
end

local function find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return vim.fn.getcwd()
  end
  local dir = vim.fn.fnamemodify(name, ':p:h')
  for _, marker in ipairs(markers) do
    local current = dir
    while true do
      if vim.loop.fs_stat(current .. '/' .. marker) then
        return current
      end
      local parent = vim.fn.fnamemodify(current, ':h')
      if parent == current then
        break
      end
      current = parent
    end
  end
  return dir
end

local function server_config()
  local opts = M.options
  return {
    name = 'heapspot',
    cmd = opts.cmd,
    init_options = json_object(opts.settings),
    settings = { heapspot = json_object(opts.settings) },
    handlers = handlers,
    capabilities = opts.capabilities,
    on_attach = on_attach,
  }
end

-- Clients started by the pre-0.11 path, by root directory.
local legacy_clients = {}

local function legacy_attach(bufnr)
  local opts = M.options
  if vim.api.nvim_buf_get_option(bufnr, 'buftype') ~= '' then
    return
  end
  local root = find_root(bufnr, opts.root_markers)
  local id = legacy_clients[root]
  if id and vim.lsp.get_client_by_id(id) and not vim.lsp.client_is_stopped(id) then
    vim.lsp.buf_attach_client(bufnr, id)
    return
  end
  local config = server_config()
  config.root_dir = root
  config.workspace_folders = { { uri = vim.uri_from_fname(root), name = root } }
  id = vim.lsp.start_client(config)
  if not id then
    notify('could not start ' .. table.concat(opts.cmd, ' '), vim.log.levels.ERROR)
    return
  end
  legacy_clients[root] = id
  vim.lsp.buf_attach_client(bufnr, id)
end

local function define_commands()
  local function profile_paths(fargs)
    local paths = {}
    for _, arg in ipairs(fargs) do
      local expanded = vim.fn.expand(arg, false, true)
      if type(expanded) ~= 'table' or #expanded == 0 then
        expanded = { arg }
      end
      for _, p in ipairs(expanded) do
        table.insert(paths, vim.fn.fnamemodify(p, ':p'))
      end
    end
    return paths
  end
  local function report_status(status)
    M.status = status
    vim.notify(M.statusline(), vim.log.levels.INFO)
    refresh_all_lenses()
  end

  vim.api.nvim_create_user_command('HeapspotLoad', function(cmd)
    M.execute('heapspot.loadProfile', { profile_paths(cmd.fargs) }, report_status)
  end, { nargs = '+', complete = 'file', desc = 'heapspot: load heap profiles, oldest first' })

  vim.api.nvim_create_user_command('HeapspotCapture', function(cmd)
    M.execute('heapspot.captureProfile', { cmd.args }, function(result)
      notify('saved ' .. tostring(result and result.path))
    end)
  end, { nargs = 1, desc = 'heapspot: capture a heap profile from an endpoint' })

  vim.api.nvim_create_user_command('HeapspotBaseline', function(cmd)
    local arg = cmd.args ~= '' and vim.fn.fnamemodify(vim.fn.expand(cmd.args), ':p') or vim.NIL
    M.execute('heapspot.setBaseline', { arg }, report_status)
  end, { nargs = '?', complete = 'file', desc = 'heapspot: set the baseline profile (no argument clears it)' })

  vim.api.nvim_create_user_command('HeapspotSampleType', function(cmd)
    if cmd.args == '' then
      M.execute('heapspot.selectSampleType', {}, function(result)
        notify('sample type ' .. tostring(result.current) .. ' (available: ' .. table.concat(result.available or {}, ', ') .. ')')
      end)
    else
      M.execute('heapspot.selectSampleType', { cmd.args }, function(result)
        notify('sample type ' .. tostring(result.current))
        refresh_all_lenses()
      end)
    end
  end, {
    nargs = '?',
    complete = function()
      return (M.status and M.status.sampleTypes) or { 'inuse_space', 'inuse_objects', 'alloc_space', 'alloc_objects' }
    end,
    desc = 'heapspot: show or select the sample type',
  })

  vim.api.nvim_create_user_command('HeapspotTop', function(cmd)
    local args = {}
    if cmd.args ~= '' then
      args = { { n = tonumber(cmd.args) } }
    end
    M.execute('heapspot.showTop', args, M.set_top_quickfix)
  end, { nargs = '?', desc = 'heapspot: top allocation sites in the quickfix list' })

  vim.api.nvim_create_user_command('HeapspotClear', function()
    M.execute('heapspot.clearProfiles', {}, report_status)
  end, { nargs = 0, desc = 'heapspot: unload all profiles' })

  vim.api.nvim_create_user_command('HeapspotStatus', function()
    M.execute('heapspot.status', {}, report_status)
  end, { nargs = 0, desc = 'heapspot: show the loaded profiles and totals' })
end

--- Sets heapspot up. opts: cmd (the server command, default { $HEAPSPOT_SERVER or 'heapspot', 'lsp' }),
--- settings (the server's settings object), filetypes, root_markers, on_attach, capabilities.
function M.setup(opts)
  opts = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if not opts.cmd then
    local server = vim.env.HEAPSPOT_SERVER
    opts.cmd = { (server and server ~= '') and server or 'heapspot', 'lsp' }
  end
  M.options = opts
  define_commands()

  if has_011 then
    local config = server_config()
    config.name = nil
    config.filetypes = opts.filetypes
    config.root_markers = opts.root_markers
    vim.lsp.config('heapspot', config)
    vim.lsp.enable('heapspot')
    if vim.v.vim_did_enter ~= 1 then
      -- vim.lsp.enable only visits buffers already open once Neovim has started.
      for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
          pcall(vim.api.nvim_exec_autocmds, 'FileType', { group = 'nvim.lsp.enable', buffer = bufnr })
        end
      end
    end
    return
  end

  local group = vim.api.nvim_create_augroup('heapspot_start', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = opts.filetypes,
    callback = function(args)
      legacy_attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr)
      and vim.tbl_contains(opts.filetypes, vim.api.nvim_buf_get_option(bufnr, 'filetype')) then
      legacy_attach(bufnr)
    end
  end
end

return M
