//! VS Code end-to-end test: code-server with the packaged heapspot .vsix, driven by headless Chromium.
//!
//! Run by dev/editors-test.sh. It installs the .vsix into a fresh code-server, opens a copy of the
//! fixture workspace, and checks what a developer sees: the status bar (the bundled server ran and
//! loaded the workspace's profiles), squiggles and Problems rows carrying the rule ids of the file's
//! `// want RULE-ID` markers, the code lens and inlay hint texts with the numbers the CLI computes,
//! the hover, and a quick fix whose edit lands on disk. Screenshots go to the artifacts directory.
//! Exit code 0 when every check passed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const need = (name) => {
  if (!env[name]) {
    console.error(`vscode.test.mjs: ${name} is not set`);
    process.exit(2);
  }
  return env[name];
};
const repo = need('HEAPSPOT_REPO');
const vsix = need('HEAPSPOT_VSIX');
const codeServer = need('CODE_SERVER');
const artifacts = need('HEAPSPOT_ARTIFACTS');
const expect = JSON.parse(fs.readFileSync(need('HEAPSPOT_EXPECT'), 'utf8'));
const browserPath = env.CHROMIUM || '/usr/bin/chromium';
const relFile = expect.file; // e.g. cache/session.go, relative to the fixture workspace

const results = [];
let failed = 0;
function check(ok, what, detail) {
  results.push(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail !== undefined ? ` (${detail})` : ''}`);
  console.log(results[results.length - 1]);
  if (!ok) failed += 1;
  return ok;
}

/** The first size in a text ("1.46MB", "1494.18kB") in bytes, with the slack its printed precision allows. */
const UNITS = { B: 1, kB: 1024, KB: 1024, KiB: 1024, MB: 1024 ** 2, MiB: 1024 ** 2, GB: 1024 ** 3, GiB: 1024 ** 3 };
function parseSize(text) {
  for (const m of String(text).matchAll(/(\d+(?:\.(\d+))?)\s*([A-Za-z]+)/g)) {
    const unit = UNITS[m[3]];
    if (unit) return { value: Number(m[1]) * unit, slack: (m[2] ? 10 ** -m[2].length : 1) / 2 * unit + 1 };
  }
  return undefined;
}
function sizeMatches(text, bytes) {
  const size = parseSize(text);
  return size !== undefined && Math.abs(size.value - bytes) <= size.slack;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, fn, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = undefined;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return last;
}

// A fresh home for code-server: settings, extensions, and a copy of the fixture workspace.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'heapspot-vscode-'));
const dirs = {
  home: path.join(root, 'home'),
  user: path.join(root, 'user'),
  ext: path.join(root, 'ext'),
  ws: path.join(root, 'service'),
};
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
fs.cpSync(path.join(repo, 'tests/fixtures/service'), dirs.ws, { recursive: true });
fs.mkdirSync(path.join(dirs.user, 'User'), { recursive: true });
fs.writeFileSync(
  path.join(dirs.user, 'User', 'settings.json'),
  JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'workbench.colorTheme': 'Default Dark Modern',
      'security.workspace.trust.enabled': false,
      'extensions.ignoreRecommendations': true,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'editor.inlayHints.enabled': 'on',
      'editor.codeLens': true,
      'editor.hover.delay': 200,
      'editor.hover.above': false,
      'editor.minimap.enabled': false,
      'window.zoomLevel': 0,
      'chat.disableAIFeatures': true,
    },
    null,
    2,
  ),
);

const childEnv = { ...env, HOME: dirs.home, XDG_CONFIG_HOME: path.join(dirs.home, '.config'), XDG_DATA_HOME: path.join(dirs.home, '.local/share'), XDG_CACHE_HOME: path.join(dirs.home, '.cache') };
// The bundled server must be the one that runs: no override from the environment.
delete childEnv.HEAPSPOT_SERVER;
const csArgs = ['--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--extensions-dir', dirs.ext, '--user-data-dir', dirs.user];

const install = spawnSync(codeServer, [...csArgs, '--install-extension', vsix], { env: childEnv, encoding: 'utf8', timeout: 120000 });
check(install.status === 0, `code-server --install-extension ${path.basename(vsix)}`, (install.stdout + install.stderr).trim().split('\n').pop());
const installed = fs.readdirSync(dirs.ext).filter((d) => d.startsWith('heapspot.heapspot-'));
const bundled = installed.length === 1 ? path.join(dirs.ext, installed[0], 'server', 'heapspot') : undefined;
check(bundled !== undefined && fs.existsSync(bundled) && (fs.statSync(bundled).mode & 0o111) !== 0, 'the installed extension carries an executable server/heapspot', bundled);

const port = await freePort();
const csLog = fs.openSync(path.join(artifacts, 'code-server.log'), 'w');
const cs = spawn(codeServer, [...csArgs, '--bind-addr', `127.0.0.1:${port}`, '--config', path.join(root, 'config.yaml'), dirs.ws], {
  env: childEnv,
  stdio: ['ignore', csLog, csLog],
  detached: true,
});
const base = `http://127.0.0.1:${port}`;

let browser;
let page;
async function shot(name) {
  if (page) await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

/** The 1-based line number shown at the vertical position of an element, in the active editor. */
async function linesOf(selector) {
  return page.evaluate((sel) => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    if (!editor) return [];
    const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')].map((el) => ({
      top: el.parentElement.getBoundingClientRect().top,
      line: Number(el.textContent.trim()),
    }));
    return [...editor.querySelectorAll(sel)].map((el) => {
      const top = el.getBoundingClientRect().top;
      let best;
      for (const n of numbers) {
        if (Math.abs(n.top - top) < 4) best = n.line;
      }
      return { line: best, text: el.textContent, cls: el.className };
    });
  }, selector);
}

/** Text of the rendered editor line with this 1-based number (source text plus injected text). */
async function viewLineText(line) {
  return page.evaluate((wanted) => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    if (!editor) return undefined;
    for (const n of editor.querySelectorAll('.margin-view-overlays .line-numbers')) {
      if (Number(n.textContent.trim()) !== wanted) continue;
      const top = n.parentElement.getBoundingClientRect().top;
      for (const v of editor.querySelectorAll('.view-lines .view-line')) {
        if (Math.abs(v.getBoundingClientRect().top - top) < 4) return v.textContent;
      }
    }
    return undefined;
  }, line);
}

async function runCommand(title) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(title);
  await page.waitForTimeout(400);
  await page.keyboard.press('Enter');
}

async function gotoLine(line) {
  await page.keyboard.press('Control+g');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
}

try {
  const healthy = await waitFor('code-server', async () => (await fetch(`${base}/healthz`)).ok, 30000);
  check(Boolean(healthy), 'code-server answers /healthz');

  browser = await chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  await page.goto(`${base}/?folder=${encodeURIComponent(dirs.ws)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  await page.waitForSelector('.explorer-folders-view', { timeout: 60000 }).catch(() => {});

  // Open the fixture file with Quick Open, as a developer would.
  await page.waitForTimeout(1500);
  await page.keyboard.press('Control+p');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(relFile);
  // Wait for the file search to list the file before picking it.
  await page.waitForFunction(
    (name) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')].some((r) => r.textContent.includes(name)),
    path.basename(relFile),
    { timeout: 60000 },
  );
  await page.keyboard.press('Enter');
  await page.waitForSelector('.editor-instance .monaco-editor .view-lines', { timeout: 30000 });
  const source = fs.readFileSync(path.join(dirs.ws, relFile), 'utf8').split('\n');
  const wants = [];
  source.forEach((text, i) => {
    const m = text.match(/\/\/ want (.+)$/);
    if (m) for (const rule of m[1].trim().split(/\s+/)) wants.push({ line: i + 1, rule });
  });
  check(wants.length > 0, `${relFile} has want markers`, wants.map((w) => `${w.rule}@${w.line}`).join(', '));
  const wantLine = wants[0].line;

  // Status bar: the bundled server started and loaded the workspace's profiles.
  const statusText = await waitFor(
    'status bar',
    async () => {
      const texts = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent.trim()));
      return texts.find((t) => t.includes(`heapspot: ${expect.profiles.length} profiles`));
    },
    45000,
  );
  check(Boolean(statusText), `the status bar shows "heapspot: ${expect.profiles.length} profiles"`, statusText);
  check(Boolean(statusText) && sizeMatches(statusText.split('·').slice(2).join('·'), expect.total), `the status bar shows the total of the last snapshot, ${expect.total} bytes`, statusText);

  // Bring the want line to the middle of the editor so lens, hint and hover are all on screen.
  await gotoLine(wantLine);
  await page.keyboard.press('Escape');

  const squiggles = await waitFor(
    'squiggles',
    async () => {
      const found = await linesOf('[class*="squiggly-"]');
      return found.some((s) => s.line === wantLine) ? found : undefined;
    },
    45000,
  );
  check(Boolean(squiggles), `a squiggle on line ${wantLine}`, JSON.stringify((squiggles || []).map((s) => s.line)));

  const lenses = await waitFor(
    'code lenses',
    async () => {
      const texts = await page.$$eval('.editor-instance .codelens-decoration', (els) => els.map((e) => e.textContent));
      return expect.lenses.every((l) => texts.some((t) => t.startsWith(l.prefix) && sizeMatches(t, l.bytes))) ? texts : undefined;
    },
    30000,
  );
  const lensTexts = lenses || (await page.$$eval('.editor-instance .codelens-decoration', (els) => els.map((e) => e.textContent)));
  for (const l of expect.lenses) {
    check(lensTexts.some((t) => t.startsWith(l.prefix) && sizeMatches(t, l.bytes)), `a code lens "${l.prefix} …" shows ${l.bytes} bytes for ${l.function}`, JSON.stringify(lensTexts));
  }

  for (const h of expect.hints) {
    const text = await waitFor('inlay hint', async () => {
      const t = await viewLineText(h.line);
      if (!t) return undefined;
      // The rendered line is the source text (tabs shown as four spaces) plus the injected hint.
      const rendered = t.replace(/\u00a0/g, ' ');
      const src = source[h.line - 1].replace(/\t/g, '    ').trimEnd();
      if (!rendered.startsWith(src) || rendered.length <= src.length) return undefined;
      return sizeMatches(rendered.slice(src.length), h.bytes) ? t : undefined;
    }, 20000);
    check(Boolean(text), `the inlay hint on line ${h.line} shows ${h.bytes} bytes`, text ?? (await viewLineText(h.line)));
  }
  await shot('01-editor');

  // Hover over the squiggle on the want line.
  const box = await page.evaluate((wanted) => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')];
    const n = numbers.find((el) => Number(el.textContent.trim()) === wanted);
    if (!n) return undefined;
    const top = n.parentElement.getBoundingClientRect().top;
    for (const s of editor.querySelectorAll('[class*="squiggly-"]')) {
      const r = s.getBoundingClientRect();
      if (Math.abs(r.top - top) < 4 && r.width > 0) return { x: r.left + Math.min(r.width / 2, 40), y: r.top + r.height / 2 };
    }
    return undefined;
  }, wantLine);
  let hoverText;
  if (check(Boolean(box), `the squiggle on line ${wantLine} has a box to hover`)) {
    await page.mouse.move(box.x - 30, box.y - 30);
    await page.mouse.move(box.x, box.y, { steps: 5 });
    // The server's hover section starts with "heapspot ·" and the line's own value.
    const hoverOk = (t) => {
      const at = t.indexOf('heapspot ·');
      const own = at >= 0 ? t.slice(at + 'heapspot ·'.length) : '';
      return {
        value: at >= 0 && sizeMatches(own, expect.hover.bytes),
        types: expect.hover.sampleTypes.every((type) => t.includes(type)),
        sparkline: /[▁▂▃▄▅▆▇█]{2,}/.test(t),
        paths: t.includes('call paths'),
      };
    };
    hoverText = await waitFor('hover', async () => {
      const texts = await page.$$eval('.monaco-hover:not(.hidden)', (els) => els.map((e) => e.textContent));
      const t = texts.join('\n');
      return Object.values(hoverOk(t)).every(Boolean) ? t : undefined;
    }, 15000);
    const shown = hoverText ?? (await page.$$eval('.monaco-hover', (els) => els.map((e) => e.textContent).join('\n')));
    const got = hoverOk(shown);
    check(expect.hover.line === wantLine, `the hover expectations are for line ${wantLine}`);
    check(got.value, `the hover shows the line's ${expect.hover.bytes} bytes`, shown.slice(shown.indexOf('heapspot ·'), shown.indexOf('heapspot ·') + 80));
    check(got.types, `the hover lists every sample type (${expect.hover.sampleTypes.join(', ')})`);
    check(got.sparkline, 'the hover has a trend sparkline');
    check(got.paths, 'the hover has the top call paths');
    check(wants.filter((w) => w.line === wantLine).every((w) => shown.includes(w.rule)), `the hover names the rule ${wants[0].rule}`);
    await shot('02-hover');
    await page.screenshot({ path: path.join(artifacts, 'screenshot.png') });
  }
  await page.mouse.move(5, 400);
  await page.keyboard.press('Escape');

  // The Problems panel lists heapspot's findings with their rule ids and lines.
  await page.keyboard.press('Control+Shift+m');
  await page.waitForSelector('.markers-panel', { timeout: 10000 });
  const rows = await waitFor('problems', async () => {
    const texts = await page.$$eval('.markers-panel .monaco-list-row', (els) => els.map((e) => e.textContent));
    return wants.every((w) => texts.some((t) => t.includes(w.rule) && t.includes(`[Ln ${w.line},`))) ? texts : undefined;
  }, 15000);
  const rowTexts = rows || (await page.$$eval('.markers-panel .monaco-list-row', (els) => els.map((e) => e.textContent)));
  for (const w of wants) {
    check(rowTexts.some((t) => t.includes('heapspot') && t.includes(w.rule) && t.includes(`[Ln ${w.line},`)), `a Problems row: heapspot ${w.rule} at line ${w.line}`);
  }
  await shot('03-problems');
  await page.keyboard.press('Control+Shift+m');

  // Show Top Sites: the server's top rows in a quick pick; picking one opens its file at its line.
  await runCommand('heapspot: Show Top Sites');
  const topRow = `${relFile}:${expect.topLine}`;
  const topRows = await waitFor('top sites', async () => {
    const texts = await page.$$eval('.quick-input-list .monaco-list-row', (els) => els.map((e) => e.textContent));
    return texts.some((t) => t.includes(topRow)) ? texts : undefined;
  }, 15000);
  check(Boolean(topRows), `Show Top Sites lists ${topRow}`, JSON.stringify((topRows || []).slice(0, 3)));
  await shot('03b-top-sites');
  if (topRows) {
    await page.keyboard.type(topRow);
    await page.waitForTimeout(500);
    await page.keyboard.press('Enter');
    const at = await waitFor('cursor', async () => {
      const t = await page.$eval('#status\\.editor\\.selection', (e) => e.textContent.trim());
      return t.includes(`Ln ${expect.topLine},`) ? t : undefined;
    }, 10000);
    check(Boolean(at), `picking the row puts the cursor on line ${expect.topLine}`, at);
  } else {
    await page.keyboard.press('Escape');
  }

  // Quick fix: "ignore with a comment" on the want line, saved to disk.
  await page.click('.editor-instance .monaco-editor .view-lines');
  await gotoLine(wantLine);
  await page.keyboard.press('Control+.');
  const actions = await waitFor('code actions', async () => {
    const texts = await page.$$eval('.action-widget .monaco-list-row', (els) => els.map((e) => e.textContent));
    return texts.length > 0 ? texts : undefined;
  }, 10000);
  check(Boolean(actions), 'Ctrl+. offers code actions on the want line', JSON.stringify(actions));
  await shot('04-quickfix');
  const ignoreIndex = (actions || []).findIndex((t) => /ignore/i.test(t) && t.includes(wants[0].rule));
  if (check(ignoreIndex >= 0, `a quick fix ignores ${wants[0].rule} with a comment`, JSON.stringify(actions))) {
    // The first action is focused; group headers ("Quick Fix") are skipped by the arrow keys.
    const kinds = await page.$$eval('.action-widget .monaco-list-row', (els) => els.map((e) => e.className.includes('group-header')));
    const steps = kinds.slice(0, ignoreIndex).filter((header) => !header).length;
    for (let i = 0; i < steps; i += 1) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+s');
    const onDisk = await waitFor('saved edit', async () => {
      const text = fs.readFileSync(path.join(dirs.ws, relFile), 'utf8');
      return text.includes(`//heapspot:ignore ${wants[0].rule}`) ? text : undefined;
    }, 10000);
    check(Boolean(onDisk), `the saved file carries //heapspot:ignore ${wants[0].rule}`);
    if (onDisk) {
      const lines = onDisk.split('\n');
      const at = lines.findIndex((t) => t.includes(`//heapspot:ignore ${wants[0].rule}`)) + 1;
      check(Math.abs(at - wantLine) <= 1, `the ignore comment is on or just above line ${wantLine}`, `line ${at}`);
      const gone = await waitFor('suppressed', async () => {
        const found = await linesOf('[class*="squiggly-"]');
        const codeLine = lines.findIndex((t) => t.includes(source[wantLine - 1].replace(/\s*\/\/ want.*$/, '').trim())) + 1;
        return found.every((s) => s.line !== codeLine) ? true : undefined;
      }, 15000);
      check(Boolean(gone), `the suppressed finding's squiggle goes away`);
    }
    await shot('05-after-quickfix');
  }

  // The explorer's "Load in heapspot" on a profile loads exactly that profile.
  const first = path.basename(expect.profiles[0]);
  await page.keyboard.press('Control+Shift+e');
  const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^profiles$/ });
  await folder.first().click();
  const profileRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: first });
  await profileRow.first().waitFor({ timeout: 10000 });
  await profileRow.first().click({ button: 'right' });
  const menuItem = page.locator('.monaco-menu .action-label', { hasText: 'Load in heapspot' });
  const hasMenu = await menuItem.first().waitFor({ timeout: 10000 }).then(() => true, () => false);
  check(hasMenu, `the explorer context menu of ${first} offers "Load in heapspot"`);
  await shot('06-explorer-menu');
  if (hasMenu) {
    await menuItem.first().click();
    const one = await waitFor('one profile', async () => {
      const texts = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent.trim()));
      return texts.find((t) => t.includes('heapspot: 1 profile'));
    }, 15000);
    check(Boolean(one), 'after "Load in heapspot" the status bar shows "heapspot: 1 profile"', one);
  } else {
    await page.keyboard.press('Escape');
  }

  // Select Sample Type: the server's sample types in a quick pick; the choice reaches the status bar.
  await runCommand('heapspot: Select Sample Type');
  const typeRows = await waitFor('sample types', async () => {
    const texts = await page.$$eval('.quick-input-list .monaco-list-row', (els) => els.map((e) => e.textContent));
    return expect.hover.sampleTypes.every((type) => texts.some((t) => t.startsWith(type))) ? texts : undefined;
  }, 10000);
  check(Boolean(typeRows), `Select Sample Type offers ${expect.hover.sampleTypes.join(', ')}`, JSON.stringify(typeRows));
  const otherType = expect.hover.sampleTypes.find((type) => type !== 'inuse_space');
  if (typeRows && otherType) {
    await page.keyboard.type(otherType);
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    const switched = await waitFor('sample type', async () => {
      const texts = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent.trim()));
      return texts.find((t) => t.startsWith('heapspot:') && t.includes(otherType));
    }, 10000);
    check(Boolean(switched), `after choosing ${otherType} the status bar shows it`, switched);
  } else {
    await page.keyboard.press('Escape');
  }
} catch (err) {
  check(false, `test error: ${err && err.stack ? err.stack : err}`);
  await shot('error').catch(() => {});
} finally {
  if (browser) await browser.close().catch(() => {});
  // code-server runs in its own process group with the extension host and the language server.
  try {
    process.kill(-cs.pid, 'SIGTERM');
  } catch {}
  await new Promise((r) => setTimeout(r, 1000));
  try {
    process.kill(-cs.pid, 'SIGKILL');
  } catch {}
}

// Workspace trust: a second code-server with trust on opens a copy of the workspace whose
// .vscode/settings.json names an endpoint; the user settings name another. In Restricted Mode the
// server must hear of the user's endpoint only (the status bar tooltip lists the server's endpoints).
async function trustRun() {
  const user = path.join(root, 'user-untrusted');
  const ws = path.join(root, 'service-untrusted');
  fs.cpSync(path.join(repo, 'tests/fixtures/service'), ws, { recursive: true });
  const fromWorkspace = 'http://127.0.0.1:9/workspace-setting/debug/pprof/heap';
  const fromUser = 'http://127.0.0.1:9/user-setting/debug/pprof/heap';
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'heapspot.endpoints': [fromWorkspace], 'heapspot.pollIntervalSeconds': 3600 }));
  fs.mkdirSync(path.join(user, 'User'), { recursive: true });
  const settings = JSON.parse(fs.readFileSync(path.join(dirs.user, 'User', 'settings.json'), 'utf8'));
  Object.assign(settings, {
    'security.workspace.trust.enabled': true,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'heapspot.endpoints': [fromUser],
  });
  fs.writeFileSync(path.join(user, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const trustPort = await freePort();
  const args = ['--auth', 'none', '--disable-telemetry', '--disable-update-check', '--extensions-dir', dirs.ext, '--user-data-dir', user];
  const proc = spawn(codeServer, [...args, '--bind-addr', `127.0.0.1:${trustPort}`, '--config', path.join(root, 'config.yaml'), ws], {
    env: childEnv,
    stdio: ['ignore', csLog, csLog],
    detached: true,
  });
  let trustBrowser;
  try {
    await waitFor('code-server', async () => (await fetch(`http://127.0.0.1:${trustPort}/healthz`)).ok, 30000);
    trustBrowser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await (await trustBrowser.newContext({ viewport: { width: 1400, height: 860 } })).newPage();
    await page.goto(`http://127.0.0.1:${trustPort}/?folder=${encodeURIComponent(ws)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    const restricted = await waitFor('restricted mode', async () => {
      const texts = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent.trim()));
      return texts.some((t) => t.includes('Restricted Mode')) && texts.find((t) => t.includes(`heapspot: ${expect.profiles.length} profiles`));
    }, 45000);
    check(Boolean(restricted), 'untrusted workspace: Restricted Mode, and heapspot still loads the profiles', restricted);
    const item = page.locator('.statusbar-item', { hasText: 'heapspot:' }).first();
    let tooltip;
    for (let attempt = 0; attempt < 5 && !tooltip; attempt += 1) {
      await page.mouse.move(700, 400);
      await item.hover();
      tooltip = await waitFor('tooltip', async () => {
        const t = (await page.$$eval('.monaco-hover, .workbench-hover', (els) => els.map((e) => e.textContent))).join('\n');
        return t.includes('server:') ? t : undefined;
      }, 4000);
    }
    await shot('07-untrusted-status');
    const shown = tooltip ? (tooltip.match(/endpoint \S+|\S+ \(bundled\)/g) || []).join(', ') : undefined;
    check(Boolean(tooltip) && tooltip.includes(fromUser), 'untrusted workspace: the endpoint of the user settings reaches the server', shown);
    check(Boolean(tooltip) && !tooltip.includes(fromWorkspace), 'untrusted workspace: the endpoint of the workspace settings does not', shown);
    check(Boolean(tooltip) && tooltip.includes(`${installed[0]}/server/heapspot (bundled)`), 'the status names the bundled server', shown);
  } catch (err) {
    check(false, `trust test error: ${err && err.stack ? err.stack : err}`);
    await shot('error-trust').catch(() => {});
  } finally {
    if (trustBrowser) await trustBrowser.close().catch(() => {});
    try {
      process.kill(-proc.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => setTimeout(r, 1000));
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {}
  }
}
await trustRun();
fs.writeFileSync(path.join(artifacts, 'vscode-results.txt'), results.join('\n') + '\n');
fs.rmSync(root, { recursive: true, force: true });
const passed = results.length - failed;
console.log(`vscode: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
