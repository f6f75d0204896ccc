import { defineConfig } from 'tsup';

// dist/cli.js with a shebang (the package's bin) and dist/vae-worker.js (the VAE decode's worker thread, loaded from
// next to cli.js). The @fpsattn packages and the third-party dependencies stay external (resolved from node_modules at
// run time); no declarations (nothing imports the CLI).
export default defineConfig({
  entry: { cli: 'src/cli.ts', 'vae-worker': 'src/vae-worker.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
});
