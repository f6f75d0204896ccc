// The command tree (commander 14: the newest major that runs on Node 20), exit codes and the one-line error report.
import { Command, CommanderError } from 'commander';
import pkg from '../package.json';
import { registerBench } from './commands/bench';
import { registerDemo } from './commands/demo';
import { registerDoctor } from './commands/doctor';
import { registerGenerate } from './commands/generate';
import { registerInspect } from './commands/inspect';
import { registerPlan } from './commands/plan';
import { registerQuantError } from './commands/quant-error';
import { EXIT_CODES, errorLine, exitCodeOf } from './_errors';

export function createProgram(): Command {
  const program = new Command('fpsattn')
    .description('FP8 + sparse attention for video diffusion transformers (FPSAttention): schedules, checkpoints, FP8 fidelity and Wan2.1 sampling')
    .version(pkg.version, '-V, --version')
    .option('--verbose', 'print the stack trace of an error')
    .exitOverride()
    .showSuggestionAfterError(true)
    // Commander's own parse errors are reported by run() in the same one-line form as every other error.
    .configureOutput({ outputError: () => undefined });
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 runtime failure (or problems found by inspect), 2 usage error, 130 stopped by Ctrl-C.

Examples:
  $ fpsattn demo
  $ fpsattn doctor
  $ fpsattn plan --preset wan-720p --steps 30 --out-dir pictures
  $ fpsattn inspect ./Wan2.1-T2V-1.3B
  $ fpsattn quant-error --input outlier
  $ fpsattn generate --steps 4 --out latents.safetensors
  $ fpsattn bench attention --shape wan-1.3b-720p --out-dir bench-out
`,
  );
  registerDemo(program);
  registerDoctor(program);
  registerPlan(program);
  registerInspect(program);
  registerQuantError(program);
  registerGenerate(program);
  registerBench(program);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code; errors go to stderr as one line. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  let commandName = '';
  program.hook('preSubcommand', (_root, sub) => {
    commandName = sub.name();
  });
  try {
    await program.parseAsync([...argv]);
    return EXIT_CODES.ok;
  } catch (error) {
    const prefix = commandName ? `fpsattn ${commandName}` : 'fpsattn';
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT_CODES.ok; // --help, --version
      if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return EXIT_CODES.usage; // no command given: help was shown
      const message = error.message.replace(/^error: /, '').replace(/\n+/g, '; ');
      process.stderr.write(`${prefix}: ${message} (fix: see '${prefix} --help')\n`);
      return EXIT_CODES.usage;
    }
    process.stderr.write(`${prefix}: ${errorLine(error)}\n`);
    const verbose = argv.includes('--verbose');
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
