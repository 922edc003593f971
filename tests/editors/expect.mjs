//! Computes what the editor tests must see on one fixture file, from the heapspot CLI run on the
//! same profiles: the profiles the server loads from .heapspot.toml, the total of the last
//! snapshot (raw bytes), the code lens of the file's function holding the most memory, the inlay hint of its
//! largest allocation line. Usage: node expect.mjs HEAPSPOT WORKSPACE FILE > expect.json
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [heapspot, workspaceArg, file] = process.argv.slice(2);
if (!heapspot || !workspaceArg || !file) {
  console.error('usage: node expect.mjs HEAPSPOT WORKSPACE FILE');
  process.exit(2);
}
const workspace = path.resolve(workspaceArg);

// The workspace's heap profiles, oldest first, as .heapspot.toml's glob profiles/heap-*.pb.gz names them.
const profiles = fs
  .readdirSync(path.join(workspace, 'profiles'))
  .filter((f) => /^heap-.*\.pb\.gz$/.test(f))
  .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
  .map((f) => path.join(workspace, 'profiles', f));
if (profiles.length < 2) {
  console.error(`expect.mjs: ${workspace}/profiles has fewer than two heap snapshots`);
  process.exit(1);
}
const last = profiles[profiles.length - 1];

/** `heapspot top --format json` on the last snapshot: raw values per function or per line. */
function top(args) {
  return JSON.parse(execFileSync(heapspot, ['top', last, '-n', '100000', '--format', 'json', ...args], { encoding: 'utf8' }));
}

const source = fs.readFileSync(path.join(workspace, file), 'utf8').split('\n');
// Functions declared in the file, by the name pprof gives them: pkg.Name or pkg.(*T).Name.
const functions = [];
source.forEach((text, i) => {
  const m = text.match(/^func (?:\(\s*\w+\s+(\*?)(\w+)\s*\)\s*)?(\w+)\s*\(/);
  if (m) {
    const name = m[2] ? (m[1] ? `(*${m[2]}).${m[3]}` : `${m[2]}.${m[3]}`) : m[3];
    functions.push({ name, line: i + 1 });
  }
});
const pkg = path.basename(path.dirname(path.join(workspace, file)));

const byFunction = top([]);
const byLine = top(['--lines']);
const fnRows = functions
  .map((f) => ({ ...f, row: byFunction.rows.find((r) => r.function.endsWith(`/${pkg}.${f.name}`)) }))
  .filter((f) => f.row)
  .sort((a, b) => b.row.flat - a.row.flat);
const lineRows = byLine.rows.filter((r) => r.file && r.file.endsWith(`/${file}`)).sort((a, b) => b.flat - a.flat);
if (fnRows.length === 0 || lineRows.length === 0) {
  console.error(`expect.mjs: no memory in ${file} in ${last}`);
  process.exit(1);
}

// The hover on the first want line: its own value, every sample type the profile has, a sparkline.
const wantLine = source.findIndex((text) => /\/\/ want \S/.test(text)) + 1;
const wantRow = byLine.rows.find((r) => r.file && r.file.endsWith(`/${file}`) && r.line === wantLine);
if (wantLine === 0 || !wantRow) {
  console.error(`expect.mjs: ${file} has no want line with memory in ${last}`);
  process.exit(1);
}
const sampleTypes = ['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space'].filter((type) => {
  try {
    execFileSync(heapspot, ['top', last, '-n', '1', '--sample-index', type], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

// Sizes are compared as numbers (the editors parse "1.46MB", "1494.18kB", ... back to bytes),
// so the check holds whatever unit the server picks, and still tells the lines of this file apart.
const expectation = {
  file,
  profiles,
  total: byFunction.total,
  lenses: [{ line: fnRows[0].line, function: fnRows[0].name, bytes: fnRows[0].row.flat, prefix: 'heapspot:' }],
  hints: [{ line: lineRows[0].line, bytes: lineRows[0].flat }],
  hover: { line: wantLine, bytes: wantRow.flat, sampleTypes },
  // heapspot.showTop rows are functions, located at their declaration.
  topLine: fnRows[0].line,
};
process.stdout.write(JSON.stringify(expectation, null, 2) + '\n');
