// Spawns the built binary (dist/cli.js) and decodes PNGs: the tests see the CLI as a user does.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (in apps/cli or at the root) before the tests`);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` to the end (CPU backend, no colour). */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, FPSATTN_BACKEND: 'cpu', NO_COLOR: '1', ...options.env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI and returns the child (for Ctrl-C tests). */
export function startCli(args: readonly string[]) {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FPSATTN_BACKEND: 'cpu' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh temporary folder, removed by the returned function. */
export function useTmpDir(prefix = 'fpsattn-cli-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Decodes a PNG file (throws when it is not a valid PNG). */
export function readPng(path: string): PNG {
  return PNG.sync.read(readFileSync(path));
}

/** Pixels of exactly the colour `#rrggbb` (opaque). */
export function countColor(png: PNG, hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  let count = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b && png.data[i + 3] === 255) count++;
  }
  return count;
}

/** The one-line error contract: exactly one non-empty stderr line, starting with `fpsattn <command>:`. */
export function expectOneLineError(result: CliResult, command: string): string {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}:\n${result.stderr}`);
  const line = lines[0] as string;
  const prefix = command ? `fpsattn ${command}: ` : 'fpsattn: ';
  if (!line.startsWith(prefix)) throw new Error(`expected "${prefix}...", got ${line}`);
  return line;
}
