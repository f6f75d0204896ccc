#!/usr/bin/env node
// Checks that every workspace package is publishable on its own: publint (strict) finds nothing, `npm pack` would
// ship only dist/, README.md and package.json, every `exports` target exists, and a README and a changeset exist.
// Run after a build (npm test runs it last). Exits 1 with one line per problem.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = new URL('..', import.meta.url).pathname;
const packageDirs = ['packages', 'apps']
  .filter((dir) => existsSync(join(root, dir)))
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')));

const changesets = readdirSync(join(root, '.changeset'))
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .map((f) => readFileSync(join(root, '.changeset', f), 'utf8'));
const changelogged = (name) => changesets.some((text) => text.includes(`"${name}"`));

function exportTargets(exportsField) {
  if (typeof exportsField === 'string') return [exportsField];
  if (exportsField === null || typeof exportsField !== 'object') return [];
  return Object.values(exportsField).flatMap(exportTargets);
}

const problems = [];
const rows = [];
for (const dir of packageDirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const report = (message) => problems.push(`${pkg.name}: ${message}`);

  const { messages } = await publint({ pkgDir: dir, strict: true, pack: 'npm', level: 'warning' });
  for (const m of messages) report(`publint: ${formatMessage(m, pkg) ?? m.code}`);

  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' }));
  const files = packed.files.map((f) => f.path);
  const extra = files.filter((f) => !(f === 'package.json' || f === 'README.md' || f.startsWith('dist/') || (pkg.bin && f.startsWith('bin/'))));
  if (extra.length > 0) report(`npm pack would ship files a user does not need: ${extra.join(', ')}`);
  for (const target of exportTargets(pkg.exports)) {
    if (target.includes('*')) continue;
    if (!existsSync(join(dir, target))) report(`exports target ${target} does not exist (is the package built?)`);
  }
  if (!existsSync(join(dir, 'README.md'))) report('no README.md');
  if (!changelogged(pkg.name)) report('no changeset in .changeset/ names this package');
  rows.push({ package: pkg.name, files: files.length, 'packed kB': (packed.size / 1024).toFixed(1) });
}

console.table(rows);
if (problems.length > 0) {
  console.error(`check-packages: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`check-packages: ${rows.length} packages publishable on their own`);
