// Benchmark of @fpsattn/scheduler: cost of explaining a whole schedule (mask builds come from the tiling cache).
// Run: `npm run build && npm run bench` in packages/scheduler.
import { cpus } from 'node:os';
import { BlockMaskCache } from '@fpsattn/tiling';
import { explain, formatExplainTable, resolvePlan, schedulePreset } from '../dist/index.js';

function measure(fn, runs = 30) {
  fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { 'median ms': times[Math.floor(runs / 2)].toFixed(3), 'min ms': times[0].toFixed(3), runs };
}

// The FP8 attention kernel's block row count (@fpsattn/kernels ATTENTION_TILE_POLICY.blockM); the scheduler takes it from its caller.
const blockRows = 128;
const rows = [];
for (const name of ['wan-480p', 'wan-720p']) {
  const config = schedulePreset({ name });
  rows.push({ case: `${name}: explain, cold mask cache (30 layers x 12 heads x 50 steps)`, ...measure(() => explain({ config, blockRows, cache: new BlockMaskCache() })) });
  rows.push({ case: `${name}: resolvePlan x 18000`, ...measure(() => {
    for (let step = 0; step < 50; step++) for (let layer = 0; layer < 30; layer++) for (let head = 0; head < 12; head++) resolvePlan({ config, step, layer, head });
  }) });
}
console.log(`@fpsattn/scheduler bench - node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
console.table(rows);
console.log(formatExplainTable(explain({ config: schedulePreset({ name: 'wan-720p', steps: 12 }), blockRows })));
