import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from './helpers';

describe('fpsattn', () => {
  it('prints the commands and exit codes with --help', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['doctor', 'plan', 'inspect', 'quant-error', 'generate']) expect(r.stdout).toContain(c);
    expect(r.stdout).toContain('Exit codes');
  });

  it.each(['doctor', 'plan', 'inspect', 'quant-error', 'generate'])('has --help with examples for %s', (command) => {
    const r = runCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(`$ fpsattn ${command}`);
  });

  it('prints its version', () => {
    const r = runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 with one line for an unknown command', () => {
    const r = runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, '')).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 with one line for an unknown option', () => {
    const r = runCli(['plan', '--bogus']);
    expect(r.code).toBe(2);
    const line = expectOneLineError(r, 'plan');
    expect(line).toContain("unknown option '--bogus'");
    expect(line).toContain('--help');
  });

  it('exits 2 and shows the help when no command is given', () => {
    const r = runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('Usage: fpsattn');
  });
});
