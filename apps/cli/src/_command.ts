// What every command shares: `--json`, examples in `--help`, and the global `--verbose`.
import type { Command } from 'commander';

/** Appends an "Examples:" block to a command's --help. */
export function withExamples(command: Command, examples: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/** The global options as a command's action sees them. */
export function globalOptions(command: Command): { verbose: boolean } {
  const all = command.optsWithGlobals() as { verbose?: boolean };
  return { verbose: all.verbose === true };
}
