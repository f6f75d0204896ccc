#!/usr/bin/env node
// `npm run mutation [-- <package> ...]`: Stryker mutation testing of every workspace package that has a
// stryker.config.json (packages/*/ and apps/*/), one package after the other, then a score table.
//
// Each package runs its own vitest suite against every mutant of its sources (test files and testing helpers are not
// mutated). FPSATTN_MUTATION=1 is set for the runs: vitest configs then skip their type tests (tsc, which no mutant of
// the JavaScript can change), and @fpsattn/fp8 tests its committed 21,857 boundary golden vectors instead of the
// 1.1 M-vector set it builds for `npm test` (the same code paths, one second instead of minutes per mutant).
// Reports: packages/<name>/reports/mutation/mutation.{json,html}. Not part of `npm test`: it takes minutes per package
// (README "Mutation score" sections record each package's score and run time). Set STRYKER_CONCURRENCY to override
// the per-package concurrency (the configs use 2, this machine's cores).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const packages = ['packages', 'apps']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((name) => ({ group, name })) : []))
  .filter(({ group, name }) => existsSync(join(root, group, name, 'stryker.config.json')))
  .filter(({ name }) => wanted.length === 0 || wanted.includes(name));

if (packages.length === 0) {
  console.error(`mutation: no package with a stryker.config.json matches ${wanted.length ? wanted.join(', ') : '(all)'}`);
  process.exit(2);
}

/** Mutation score as Stryker computes it: detected / (detected + undetected), over valid mutants. */
function scoreOf(reportPath) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const count = {};
  for (const file of Object.values(report.files)) for (const m of file.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const detected = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const undetected = (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  return { score: (100 * detected) / (detected + undetected), ...count };
}

// Build the selected packages and what they import (their tests import sibling packages from dist/).
const filters = packages.flatMap(({ group, name }) => ['--filter', JSON.parse(readFileSync(join(root, group, name, 'package.json'), 'utf8')).name]);
const build = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', ...filters], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const results = [];
let failed = false;
for (const { group, name } of packages) {
  const dir = join(root, group, name);
  console.log(`\n== mutation testing ${group}/${name}`);
  const args = ['stryker', 'run', ...(process.env.STRYKER_CONCURRENCY ? ['--concurrency', process.env.STRYKER_CONCURRENCY] : [])];
  const started = Date.now();
  const run = spawnSync('npx', args, { cwd: dir, stdio: 'inherit', env: { ...process.env, FPSATTN_MUTATION: '1' } });
  const minutes = (Date.now() - started) / 60_000;
  const reportPath = join(dir, 'reports/mutation/mutation.json');
  if (run.status !== 0 || !existsSync(reportPath)) {
    failed = true;
    results.push({ package: name, score: 'failed', minutes: minutes.toFixed(1) });
    continue;
  }
  const { score, ...counts } = scoreOf(reportPath);
  results.push({ package: name, 'score %': score.toFixed(2), minutes: minutes.toFixed(1), ...counts });
}
console.log('\n== mutation scores');
console.table(results);
process.exit(failed ? 1 : 0);
