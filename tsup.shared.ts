import type { Options } from 'tsup';

/**
 * The build every @fpsattn package shares: ESM for Node 20, declarations, source maps, a clean dist/. Each package's
 * tsup.config.ts passes its entry points (the public index and the ./testing subpath).
 */
export function packageBuild(entry: string[] = ['src/index.ts', 'src/testing.ts']): Options {
  return { entry, format: ['esm'], target: 'node20', dts: true, sourcemap: true, clean: true };
}
