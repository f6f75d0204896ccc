// The `fpsattn` executable (dist/cli.js, with a shebang). Everything else lives in program.ts.
import { run } from './program';

process.exitCode = await run(process.argv);
