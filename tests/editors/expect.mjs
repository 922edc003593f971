//! Computes what the editor tests must see on one fixture file, from the heapspot CLI run on the
//! same profiles: the profiles the server loads from .heapspot.toml, the total of the last
//! snapshot, the code lens of the file's function holding the most memory, the inlay hint of its
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

/** Rows of `heapspot top` text output: { flatText, flatPercent, func, file, line }. */
function top(args) {
  const text = execFileSync(heapspot, ['top', last, '-n', '100000', ...args], { encoding: 'utf8' });
  const totalMatch = text.match(/of (\S+) total/);
  const rows = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*(\S+)\s+([\d.]+)%\s+[\d.]+%\s+(\S+)\s+([\d.]+)%\s+(\S+)(?:\s+(\S+):(\d+))?\s*$/);
    if (m) rows.push({ flatText: m[1], flatPercent: Number(m[2]), cumText: m[3], func: m[5], file: m[6], line: m[7] && Number(m[7]) });
  }
  return { totalText: totalMatch && totalMatch[1], rows };
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
  .map((f) => ({ ...f, row: byFunction.rows.find((r) => r.func.endsWith(`/${pkg}.${f.name}`)) }))
  .filter((f) => f.row)
  .sort((a, b) => b.row.flatPercent - a.row.flatPercent);
const lineRows = byLine.rows.filter((r) => r.file && r.file.endsWith(`/${file}`)).sort((a, b) => b.flatPercent - a.flatPercent);
if (fnRows.length === 0 || lineRows.length === 0) {
  console.error(`expect.mjs: no memory in ${file} in ${last}`);
  process.exit(1);
}

const expectation = {
  file,
  profiles,
  totalText: byFunction.totalText,
  lenses: [{ line: fnRows[0].line, function: fnRows[0].name, contains: `heapspot: ${fnRows[0].row.flatText} in use` }],
  hints: [{ line: lineRows[0].line, contains: lineRows[0].flatText }],
  hover: ['inuse_space'],
  topLine: lineRows[0].line,
};
process.stdout.write(JSON.stringify(expectation, null, 2) + '\n');
