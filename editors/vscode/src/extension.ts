//! The heapspot VS Code extension: starts `heapspot lsp`, passes the settings on, and turns the server's commands and status into VS Code UI. All analysis stays in the server.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  Trace,
  DidChangeConfigurationNotification,
} from 'vscode-languageclient/node';

/** The status object of the contract (`heapspot.status`, `heapspot/status`). */
interface Status {
  profiles: string[];
  snapshots?: number;
  sampleType?: string;
  sampleTypes?: string[];
  total?: number;
  totalText?: string;
  series?: number[];
  growthPerSnapshot?: number | null;
  growthText?: string | null;
  baseline?: string | null;
  endpoints?: { url: string; lastCapture?: string | null; error?: string | null }[];
  findings?: { error?: number; warning?: number; info?: number };
}

/** One row of the top object of `heapspot.showTop`. */
interface TopRow {
  function: string;
  file: string | null;
  uri: string | null;
  line: number | null;
  flat: number;
  flatText: string;
  flatPercent: number;
  cum: number;
  cumText: string;
  cumPercent: number;
}

interface Top {
  sampleType: string;
  unit: string;
  total: number;
  totalText: string;
  rows: TopRow[];
}

interface SampleTypes {
  current: string;
  available: string[];
}

/** The settings keys of the contract, in the order the settings UI shows them. */
const SETTING_KEYS = [
  'profiles',
  'goroutineProfiles',
  'baseline',
  'endpoints',
  'pollIntervalSeconds',
  'snapshots',
  'sampleType',
  'thresholds',
  'rules',
  'codeLens',
  'inlayHints',
] as const;

/** Settings whose workspace values are ignored in an untrusted workspace (see package.json). */
const RESTRICTED = new Set<string>(['endpoints', 'server.path']);

const PROFILE_FILTERS = { 'Heap profiles': ['gz', 'pprof', 'pb'], 'All files': ['*'] };

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let lastStatus: Status | undefined;
let serverDescription = '';

function configScope(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

/**
 * The value of one heapspot setting that the user actually set (any scope), or undefined when it is
 * unset, so that `.heapspot.toml` keeps its say. In an untrusted workspace a restricted setting
 * only takes the user's own (global) value.
 */
function settingValue(key: string): unknown {
  const inspected = vscode.workspace.getConfiguration('heapspot', configScope()).inspect(key);
  if (!inspected) {
    return undefined;
  }
  if (RESTRICTED.has(key) && !vscode.workspace.isTrusted) {
    return inspected.globalValue;
  }
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

/** The settings object of the contract, as sent in initializationOptions and on every change. */
function serverSettings(): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = settingValue(key);
    if (value !== undefined) {
      settings[key] = value;
    }
  }
  if (!vscode.workspace.isTrusted && settings.endpoints === undefined) {
    // An untrusted workspace's .heapspot.toml must not make the server poll its endpoints either:
    // an explicit empty list overrides it.
    settings.endpoints = [];
  }
  return settings;
}

/** Finds the server: HEAPSPOT_SERVER, then heapspot.server.path, then the bundled binary, then PATH. */
function serverCommand(context: vscode.ExtensionContext): { command: string; origin: string } {
  const fromEnv = process.env.HEAPSPOT_SERVER;
  if (fromEnv) {
    return { command: fromEnv, origin: 'HEAPSPOT_SERVER' };
  }
  const fromSetting = settingValue('server.path');
  if (typeof fromSetting === 'string' && fromSetting.trim() !== '') {
    return { command: fromSetting.trim(), origin: 'heapspot.server.path' };
  }
  const bundled = context.asAbsolutePath(path.join('server', process.platform === 'win32' ? 'heapspot.exe' : 'heapspot'));
  if (fs.existsSync(bundled)) {
    if (process.platform !== 'win32') {
      try {
        fs.accessSync(bundled, fs.constants.X_OK);
      } catch {
        // Some unpackers drop the executable bit of the bundled binary.
        fs.chmodSync(bundled, 0o755);
      }
    }
    return { command: bundled, origin: 'bundled' };
  }
  return { command: 'heapspot', origin: 'PATH' };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (typeof err === 'object' && err !== null && 'message' in err) {
    return String((err as { message: unknown }).message);
  }
  return String(err);
}

/** Runs one of the server's commands through workspace/executeCommand. */
async function serverCommandRequest<T>(command: string, args: unknown[] = []): Promise<T> {
  if (!client || !client.isRunning()) {
    throw new Error('the heapspot language server is not running (see the "heapspot" output)');
  }
  return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
}

/** Runs a server command for a UI command, reporting its error in a message box. */
async function run<T>(command: string, args: unknown[] = []): Promise<T | undefined> {
  try {
    return await serverCommandRequest<T>(command, args);
  } catch (err) {
    void vscode.window.showErrorMessage(`heapspot: ${errorMessage(err)}`);
    return undefined;
  }
}

function trendArrow(growth: number | null | undefined): string {
  if (growth === null || growth === undefined || growth === 0) {
    return '';
  }
  return growth > 0 ? '▲' : '▼';
}

function renderStatus(status: Status | undefined): void {
  lastStatus = status;
  if (!status) {
    statusItem.text = '$(pulse) heapspot';
    statusItem.tooltip = `heapspot: starting (server: ${serverDescription})`;
    return;
  }
  const count = status.profiles?.length ?? 0;
  const parts = [count === 1 ? '1 profile' : `${count} profiles`];
  if (count > 0) {
    if (status.sampleType) {
      parts.push(status.sampleType);
    }
    let total = status.totalText ?? '';
    const arrow = trendArrow(status.growthPerSnapshot);
    if (arrow) {
      total += ` ${arrow}${status.growthText ? ' ' + status.growthText : ''}`;
    }
    if (total) {
      parts.push(total);
    }
  }
  statusItem.text = `$(pulse) heapspot: ${parts.join(' · ')}`;
  const tooltip = new vscode.MarkdownString();
  tooltip.appendMarkdown('**heapspot**\n\n');
  for (const profile of status.profiles ?? []) {
    tooltip.appendMarkdown(`- ${vscode.workspace.asRelativePath(profile)}\n`);
  }
  if (status.baseline) {
    tooltip.appendMarkdown(`\nbaseline: ${vscode.workspace.asRelativePath(status.baseline)}\n`);
  }
  for (const endpoint of status.endpoints ?? []) {
    const state = endpoint.error ? `error: ${endpoint.error}` : endpoint.lastCapture ? `last capture ${endpoint.lastCapture}` : 'waiting';
    tooltip.appendMarkdown(`\nendpoint ${endpoint.url}: ${state}\n`);
  }
  if (status.findings) {
    const f = status.findings;
    tooltip.appendMarkdown(`\nfindings: ${f.error ?? 0} errors, ${f.warning ?? 0} warnings, ${f.info ?? 0} infos\n`);
  }
  tooltip.appendMarkdown(`\nserver: ${serverDescription}\n\nClick for heapspot's commands.`);
  statusItem.tooltip = tooltip;
}

async function loadProfiles(uris: readonly vscode.Uri[]): Promise<void> {
  if (uris.length === 0) {
    return;
  }
  const status = await run<Status>('heapspot.loadProfile', [uris.map((u) => u.toString())]);
  if (status) {
    renderStatus(status);
  }
}

async function loadProfileUi(): Promise<void> {
  const uris = await vscode.window.showOpenDialog({
    canSelectMany: true,
    canSelectFiles: true,
    canSelectFolders: false,
    defaultUri: configScope(),
    filters: PROFILE_FILTERS,
    openLabel: 'Load in heapspot',
    title: 'Load heap profiles (oldest first)',
  });
  if (uris) {
    // The dialog does not keep the selection order; file names such as heap-1, heap-2 sort by time.
    const sorted = [...uris].sort((a, b) => a.fsPath.localeCompare(b.fsPath, undefined, { numeric: true }));
    await loadProfiles(sorted);
  }
}

async function loadFromExplorer(uri?: vscode.Uri, selected?: vscode.Uri[]): Promise<void> {
  const uris = selected && selected.length > 0 ? selected : uri ? [uri] : [];
  const sorted = [...uris].sort((a, b) => a.fsPath.localeCompare(b.fsPath, undefined, { numeric: true }));
  await loadProfiles(sorted);
}

async function captureProfileUi(): Promise<void> {
  const last = lastStatus?.endpoints?.[0]?.url;
  const url = await vscode.window.showInputBox({
    title: 'Capture a heap profile',
    prompt: 'A heap endpoint (http://host:port/debug/pprof/heap) or the base URL of a service with net/http/pprof',
    placeHolder: 'http://127.0.0.1:6060/debug/pprof/heap',
    value: last,
    validateInput: (value) => (/^https?:\/\/\S+$/.test(value.trim()) ? undefined : 'an http:// or https:// URL'),
  });
  if (!url) {
    return;
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `heapspot: capturing ${url.trim()}` },
    () => run<{ path: string }>('heapspot.captureProfile', [url.trim()]),
  );
  if (result) {
    void vscode.window.showInformationMessage(`heapspot: saved ${vscode.workspace.asRelativePath(result.path)}`);
  }
}

async function setBaselineUi(): Promise<void> {
  if (lastStatus?.baseline) {
    const choice = await vscode.window.showQuickPick(['Choose a baseline profile…', 'Clear the baseline'], {
      title: `heapspot baseline: ${vscode.workspace.asRelativePath(lastStatus.baseline)}`,
    });
    if (!choice) {
      return;
    }
    if (choice === 'Clear the baseline') {
      const status = await run<Status>('heapspot.setBaseline', [null]);
      if (status) {
        renderStatus(status);
      }
      return;
    }
  }
  const uris = await vscode.window.showOpenDialog({
    canSelectMany: false,
    defaultUri: configScope(),
    filters: PROFILE_FILTERS,
    openLabel: 'Set as baseline',
    title: 'heapspot baseline profile',
  });
  if (uris && uris[0]) {
    const status = await run<Status>('heapspot.setBaseline', [uris[0].toString()]);
    if (status) {
      renderStatus(status);
    }
  }
}

async function selectSampleTypeUi(): Promise<void> {
  const types = await run<SampleTypes>('heapspot.selectSampleType');
  if (!types) {
    return;
  }
  if (types.available.length === 0) {
    void vscode.window.showInformationMessage('heapspot: no profile is loaded, so there is no sample type to choose.');
    return;
  }
  const picked = await vscode.window.showQuickPick(
    types.available.map((name) => ({ label: name, description: name === types.current ? 'current' : undefined })),
    { title: 'heapspot sample type', placeHolder: types.current },
  );
  if (picked && picked.label !== types.current) {
    await run<SampleTypes>('heapspot.selectSampleType', [picked.label]);
    const status = await run<Status>('heapspot.status');
    if (status) {
      renderStatus(status);
    }
  }
}

/** Shows the rows of a top object in a quick pick; picking a row opens its file at its line. */
async function showTopPick(top: Top): Promise<void> {
  type Item = vscode.QuickPickItem & { row: TopRow };
  const items: Item[] = top.rows.map((row) => ({
    label: `${row.flatText} (${row.flatPercent.toFixed(1)}%)`,
    description: row.function,
    detail:
      row.file && row.line
        ? `${vscode.workspace.asRelativePath(row.file)}:${row.line} · cum ${row.cumText} (${row.cumPercent.toFixed(1)}%)`
        : `outside the workspace · cum ${row.cumText} (${row.cumPercent.toFixed(1)}%)`,
    row,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `heapspot top sites: ${top.sampleType}, total ${top.totalText}`,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) {
    return;
  }
  const { row } = picked;
  if (!row.line || !(row.uri || row.file)) {
    void vscode.window.showInformationMessage(`heapspot: ${row.function} maps outside the workspace.`);
    return;
  }
  const uri = row.uri ? vscode.Uri.parse(row.uri) : vscode.Uri.file(row.file as string);
  const position = new vscode.Position(row.line - 1, 0);
  await vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position) });
}

async function showTopUi(args?: unknown): Promise<void> {
  const top = await run<Top>('heapspot.showTop', args === undefined ? [] : [args]);
  if (top) {
    await showTopPick(top);
  }
}

async function clearProfilesUi(): Promise<void> {
  const status = await run<Status>('heapspot.clearProfiles');
  if (status) {
    renderStatus(status);
  }
}

async function restartServer(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    try {
      await client.stop();
    } catch (err) {
      output.appendLine(`stopping the server: ${errorMessage(err)}`);
    }
    client = undefined;
  }
  await startClient(context);
}

async function commandMenu(): Promise<void> {
  const commands: { label: string; command: string }[] = [
    { label: '$(file-add) Load Heap Profile…', command: 'heapspot.ui.loadProfile' },
    { label: '$(cloud-download) Capture from Endpoint…', command: 'heapspot.ui.captureProfile' },
    { label: '$(diff) Set Baseline…', command: 'heapspot.ui.setBaseline' },
    { label: '$(symbol-enum) Select Sample Type', command: 'heapspot.ui.selectSampleType' },
    { label: '$(list-ordered) Show Top Sites', command: 'heapspot.ui.showTop' },
    { label: '$(clear-all) Clear Profiles', command: 'heapspot.ui.clearProfiles' },
    { label: '$(debug-restart) Restart Server', command: 'heapspot.ui.restartServer' },
  ];
  const picked = await vscode.window.showQuickPick(commands, { title: 'heapspot' });
  if (picked) {
    await vscode.commands.executeCommand(picked.command);
  }
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const server = serverCommand(context);
  serverDescription = `${server.command} (${server.origin})`;
  output.appendLine(`starting ${server.command} lsp (from ${server.origin})`);
  renderStatus(undefined);

  const serverOptions: ServerOptions = {
    run: { command: server.command, args: ['lsp'] },
    debug: { command: server.command, args: ['lsp'] },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'go' }],
    initializationOptions: serverSettings(),
    outputChannel: output,
    middleware: {
      // The server may pull its settings: answer with the same trust-filtered object that is pushed.
      workspace: {
        configuration: async (params, token, next) => {
          const answer = await next(params, token);
          if (!Array.isArray(answer)) {
            return answer;
          }
          return answer.map((value: unknown, i) => (params.items[i]?.section === 'heapspot' ? serverSettings() : value));
        },
      },
      // A code lens runs heapspot.showTop: show its rows instead of dropping the result.
      executeCommand: async (command, args, next) => {
        const result = await next(command, args);
        if (command === 'heapspot.showTop' && result && typeof result === 'object' && 'rows' in result) {
          await showTopPick(result as Top);
        }
        return result;
      },
    },
  };
  const newClient = new LanguageClient('heapspot', 'heapspot', serverOptions, clientOptions);
  newClient.onNotification('heapspot/status', (status: Status) => renderStatus(status));
  client = newClient;
  try {
    await newClient.start();
  } catch (err) {
    statusItem.text = '$(error) heapspot';
    statusItem.tooltip = `heapspot: the server did not start (${serverDescription}): ${errorMessage(err)}`;
    void vscode.window.showErrorMessage(`heapspot: could not start ${serverDescription}: ${errorMessage(err)}`);
    return;
  }
  const trace = vscode.workspace.getConfiguration('heapspot').get<string>('trace.server', 'off');
  await newClient.setTrace(Trace.fromString(trace));
  try {
    renderStatus(await serverCommandRequest<Status>('heapspot.status'));
  } catch (err) {
    output.appendLine(`heapspot.status: ${errorMessage(err)}`);
  }
}

function pushSettings(): void {
  if (client && client.isRunning()) {
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { heapspot: serverSettings() } });
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('heapspot');
  statusItem = vscode.window.createStatusBarItem('heapspot.status', vscode.StatusBarAlignment.Left, 10);
  statusItem.name = 'heapspot';
  statusItem.command = 'heapspot.ui.menu';
  statusItem.show();
  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand('heapspot.ui.loadProfile', loadProfileUi),
    vscode.commands.registerCommand('heapspot.ui.loadFromExplorer', loadFromExplorer),
    vscode.commands.registerCommand('heapspot.ui.captureProfile', captureProfileUi),
    vscode.commands.registerCommand('heapspot.ui.setBaseline', setBaselineUi),
    vscode.commands.registerCommand('heapspot.ui.selectSampleType', selectSampleTypeUi),
    vscode.commands.registerCommand('heapspot.ui.showTop', showTopUi),
    vscode.commands.registerCommand('heapspot.ui.clearProfiles', clearProfilesUi),
    vscode.commands.registerCommand('heapspot.ui.restartServer', () => restartServer(context)),
    vscode.commands.registerCommand('heapspot.ui.menu', commandMenu),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('heapspot.server.path')) {
        void restartServer(context);
      } else if (event.affectsConfiguration('heapspot.trace.server') && client) {
        void client.setTrace(Trace.fromString(vscode.workspace.getConfiguration('heapspot').get<string>('trace.server', 'off')));
      } else if (event.affectsConfiguration('heapspot')) {
        pushSettings();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      // Workspace endpoints and a workspace server path now apply.
      void restartServer(context);
    }),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}
