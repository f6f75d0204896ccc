// `fpsattn bench attention|dit`: the attention op per mode against the kernel alone, and the Wan DiT's forward per
// schedule preset with the sample time it implies, at named Wan shapes or an explicit token grid; a table, JSON, and
// a chart (SVG and PNG) of time per mode with the speed-ups. Needs the CUDA backend on a Hopper GPU; without one it
// says why and exits 1 (`--dry-run` runs the same code on the CPU backend at a tiny shape, host timers).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CudaBackend, cublasLtStatus, doctor, loadBackend, type Backend } from '@fpsattn/kernels';
import { SCHEDULE_PRESET_NAMES, type SchedulePresetName } from '@fpsattn/scheduler';
import { SAMPLER_LOOPS, defaultSamplerLoop } from '@fpsattn/wan';
import type { Command } from 'commander';
import { writeFileAtomic } from '../_atomic-write';
import { withExamples } from '../_command';
import { CliError } from '../_errors';
import { formatTable, pct, printJson } from '../_format';
import { parseChoice, parseDims3, parseIntegerFlag } from '../_parse';
import { ATTENTION_MODES, runAttentionBench, type AttentionBenchRow, type AttentionMode } from '../bench/attention';
import { runDitBench, type DitBenchRow } from '../bench/dit';
import { BENCH_SHAPES, parseBenchShape, type BenchShape } from '../bench/shapes';
import { benchChart } from '../render/bench-chart';
import { PICTURE_COLORS } from '../render/colors';
import { writePicture, type WrittenPicture } from '../render/svg';
import { missingPieces } from './doctor';

/** Why this machine has no CUDA backend, and the fix, or null when it has one. */
export function cudaUnavailable(): { problem: string; fix: string } | null {
  const report = doctor();
  if (report.backend === 'cuda') return null;
  if (report.requested === 'cpu') return { problem: 'FPSATTN_BACKEND=cpu forces the CPU backend', fix: 'unset FPSATTN_BACKEND (or set it to cuda) on a machine with a Hopper GPU' };
  const piece = missingPieces({ report, cublasLt: null, ffmpeg: { found: true, command: 'ffmpeg', version: null, error: null } }).find((m) => m.piece !== 'ffmpeg');
  const reason = report.fallbackReason ?? piece?.problem ?? 'the CUDA backend did not load';
  return { problem: `no CUDA backend here (${reason})`, fix: piece?.fix ?? 'run on a machine with a Hopper GPU (fpsattn doctor says what is missing)' };
}

/** The backend a benchmark runs on: CUDA, or the CPU for --dry-run; otherwise exit 1 with why and the fix. */
function benchBackend(options: { dryRun: boolean; needsCublasLt: boolean }): Backend {
  if (options.dryRun) return loadBackend({ backend: 'cpu', fresh: true }).backend;
  const missing = cudaUnavailable();
  if (missing) {
    throw new CliError({ message: `cannot benchmark without a GPU: ${missing.problem}`, fix: `${missing.fix}; or pass --dry-run to check the command on the CPU` });
  }
  if (options.needsCublasLt && cublasLtStatus()?.loaded !== true) {
    throw new CliError({ message: 'cannot benchmark the DiT: cuBLASLt not found (its GEMMs need it on CUDA)', fix: 'apt-get install -y libcublas-13-0, or set FPSATTN_CUBLASLT to libcublasLt.so.* or its folder' });
  }
  return loadBackend({ backend: 'cuda' }).backend;
}

const parseList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function shapeOf(flags: { shape?: string; model?: string; dryRun?: boolean }, fallback: string): BenchShape {
  return parseBenchShape({ value: flags.shape ?? (flags.dryRun ? 'tiny' : fallback), ...(flags.model === undefined ? {} : { model: flags.model }) });
}

const deviceName = (backend: Backend): string => (backend instanceof CudaBackend ? backend.device.name : 'cpu (dry run, host timers)');

async function writeOutputs(outDir: string, name: string, json: unknown, chart: Parameters<typeof writePicture>[1]): Promise<{ json: string; chart: WrittenPicture }> {
  await mkdir(outDir, { recursive: true });
  const jsonPath = join(outDir, `${name}.json`);
  await writeFileAtomic(jsonPath, `${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  return { json: jsonPath, chart: await writePicture(outDir, chart) };
}

/** The chart of an attention run: per batch and mode, the composed op and the kernel alone, speed-up over dense-bf16. */
export function attentionChart(options: { title: string; rows: readonly AttentionBenchRow[] }) {
  const batches = new Set(options.rows.map((r) => r.batch));
  return benchChart({
    name: 'bench-attention',
    title: options.title,
    unit: 'ms',
    series: [
      { label: 'composed op (ms; x speed-up over dense-bf16)', color: PICTURE_COLORS.bench.composed },
      { label: 'kernel alone', color: PICTURE_COLORS.bench.kernel },
    ],
    groups: options.rows.map((r) => ({ label: batches.size > 1 ? `B${r.batch} ${r.mode}` : r.mode, values: [r.composedMs, r.kernelMs], speedup: r.speedup })),
  });
}

/** The chart of a DiT run: the sample time per preset, speed-up over the first preset. */
export function ditChart(options: { title: string; rows: readonly DitBenchRow[] }) {
  return benchChart({
    name: 'bench-dit',
    title: options.title,
    unit: 's',
    series: [{ label: `sample time (s; x speed-up over ${options.rows[0]?.preset ?? 'the first preset'})`, color: PICTURE_COLORS.bench.composed }],
    groups: options.rows.map((r) => ({ label: r.preset, values: [r.sampleSeconds], speedup: r.speedup })),
  });
}

interface CommonFlags {
  shape?: string;
  model?: string;
  reps?: string;
  json?: boolean;
  outDir?: string;
  dryRun?: boolean;
}

function registerAttention(bench: Command): void {
  const command = bench
    .command('attention')
    .description('the FPSAttention op (gather -> quantize -> attend -> scatter) per mode against the attention kernel alone, with TFLOP/s and speed-ups over dense BF16')
    .option('--shape <shape>', `${Object.keys(BENCH_SHAPES).join(', ')} or a token grid TxHxW (default wan-1.3b-720p; tiny with --dry-run)`)
    .option('--model <name>', 'with an explicit --shape: the model whose heads to use (wan-1.3b, wan-14b, wan-tiny)')
    .option('--batch <list>', 'comma-separated batch sizes', '1,2')
    .option('--modes <list>', `comma-separated modes (${ATTENTION_MODES.join(', ')})`, ATTENTION_MODES.join(','))
    .option('--tile <TxHxW>', 'attention tile (and FP8 group of Q/K unless --quant-tile)', '3x5x8')
    .option('--quant-tile <TxHxW>', 'FP8 group of Q/K when it differs from the attention tile (e.g. 1x5x8: the wan-720p middle phase)')
    .option('--window <TxHxW>', 'sliding window of the sparse modes, in tiles (clamped; default 5x5x5, 1x1x1 at the tiny shape)')
    .option('--reps <n>', 'timed calls per measurement after 2 warm-up calls (median)', '10')
    .option('--out-dir <dir>', 'write bench-attention.json and the chart bench-attention.svg/.png')
    .option('--json', 'print the results as JSON')
    .option('--dry-run', 'run on the CPU backend (host timers): checks the command, measures nothing')
    .action(async (flags: CommonFlags & { batch: string; modes: string; tile: string; quantTile?: string; window?: string; reps: string }) => {
      const shape = shapeOf(flags, 'wan-1.3b-720p');
      const batches = parseList(flags.batch).map((b) => parseIntegerFlag({ flag: '--batch', value: b, min: 1, max: 64 }));
      const modes = parseList(flags.modes).map((m) => parseChoice({ flag: '--modes', value: m, choices: ATTENTION_MODES }));
      const tile = parseDims3({ flag: '--tile', value: flags.tile });
      const quantTile = flags.quantTile === undefined ? tile : parseDims3({ flag: '--quant-tile', value: flags.quantTile });
      const window = parseDims3({ flag: '--window', value: flags.window ?? (shape.name === 'tiny' ? '1x1x1' : '5x5x5') });
      const reps = parseIntegerFlag({ flag: '--reps', value: flags.reps, min: 1, max: 10_000 });
      if (batches.length === 0 || modes.length === 0) throw new CliError({ message: '--batch and --modes need at least one value', fix: 'pass e.g. --batch 1 --modes dense-bf16,fp8-sparse', exitCode: 2 });
      const backend = benchBackend({ dryRun: flags.dryRun === true, needsCublasLt: false });
      const live = !flags.json && process.stderr.isTTY;
      const rows = await runAttentionBench({
        backend,
        grid: shape.grid,
        heads: shape.heads,
        batches,
        modes: [...new Set<AttentionMode>(modes)],
        tile,
        quantTile,
        window,
        reps,
        ...(live ? { onRow: (r: AttentionBenchRow) => process.stderr.write(`B${r.batch} ${r.mode}: composed ${r.composedMs.toFixed(2)} ms, kernel ${r.kernelMs.toFixed(2)} ms\n`) } : {}),
      });
      const device = deviceName(backend);
      const title = `attention at ${shape.name} (grid ${shape.grid.join('x')}, ${shape.heads} heads x 128) on ${device}`;
      const result = { device, shape: shape.name, grid: shape.grid, heads: shape.heads, headDim: 128, tile, quantTile, window, reps, dryRun: flags.dryRun === true, results: rows };
      const files = flags.outDir === undefined ? null : await writeOutputs(flags.outDir, 'bench-attention', result, attentionChart({ title, rows }));
      if (flags.json) {
        printJson({ ...result, files });
        return;
      }
      const table = formatTable({
        header: ['batch', 'mode', 'K scales', 'density', 'kernel ms', 'composed ms', 'overhead', 'kernel TFLOP/s', 'composed TFLOP/s', 'speed-up'],
        rows: rows.map((r) => [String(r.batch), r.mode, r.kScales ?? '', pct(r.density, 2), r.kernelMs.toFixed(2), r.composedMs.toFixed(2), pct(r.overhead), r.kernelTflops.toFixed(0), r.composedTflops.toFixed(0), `x${r.speedup.toFixed(2)}`]),
        right: [0, 3, 4, 5, 6, 7, 8, 9],
      });
      const out = [title, table];
      if (files) out.push('', `wrote ${files.json}, ${files.chart.svg} and ${files.chart.png} (${files.chart.width}x${files.chart.height})`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
  withExamples(command, [
    'fpsattn bench attention',
    'fpsattn bench attention --shape wan-1.3b-720p --batch 2 --reps 10 --json --out-dir bench-out',
    'fpsattn bench attention --shape 21x30x52 --model wan-14b --modes dense-bf16,fp8-sparse',
    'fpsattn bench attention --batch 2 --modes fp8-sparse --quant-tile 1x5x8 --window 5x5x7',
    'fpsattn bench attention --dry-run',
  ]);
}

function registerDit(bench: Command): void {
  const command = bench
    .command('dit')
    .description('the Wan DiT forward (batch 2, CFG) per distinct plan set of each schedule preset, and the sample time each preset implies')
    .option('--shape <shape>', `${Object.keys(BENCH_SHAPES).join(', ')} or a token grid TxHxW (default wan-1.3b-480p; tiny with --dry-run)`)
    .option('--model <name>', 'with an explicit --shape: the model (wan-1.3b, wan-14b, wan-tiny)')
    .option('--presets <list>', `comma-separated schedule presets (${SCHEDULE_PRESET_NAMES.join(', ')}); the first is the speed-up baseline`, 'dense,fp8-only,sparse-only,wan-480p,wan-720p')
    .option('--steps <n>', 'sampler steps of the estimate', '50')
    .option('--reps <n>', 'timed forwards per plan set after one warm-up (median)', '2')
    .option('--profile', 'also time one more forward per plan set part by part (synchronising after each part)')
    .option('--sample', "also run each preset's whole sampling loop (UniPC, CFG, seeded noise; the sampler's own work included) and time it")
    .option('--sampler <loop>', `with --sample: ${SAMPLER_LOOPS.join(' or ')}: device keeps the latents on the device (CFG and the UniPC update as one kernel per step, only the final latents downloaded), host downloads the velocities each step and updates in JavaScript; the same latents bit for bit (default: device on CUDA, host with --dry-run)`)
    .option('--out-dir <dir>', 'write bench-dit.json and the chart bench-dit.svg/.png')
    .option('--json', 'print the results as JSON')
    .option('--dry-run', 'run on the CPU backend (host timers): checks the command, measures nothing')
    .action(async (flags: CommonFlags & { presets: string; steps: string; reps: string; profile?: boolean; sample?: boolean; sampler?: string }) => {
      const shape = shapeOf(flags, 'wan-1.3b-480p');
      const presets = [...new Set(parseList(flags.presets).map((p) => parseChoice({ flag: '--presets', value: p, choices: SCHEDULE_PRESET_NAMES })))] as SchedulePresetName[];
      const steps = parseIntegerFlag({ flag: '--steps', value: flags.steps, min: 1, max: 10_000 });
      const reps = parseIntegerFlag({ flag: '--reps', value: flags.reps, min: 1, max: 1000 });
      if (presets.length === 0) throw new CliError({ message: '--presets needs at least one preset', fix: 'pass e.g. --presets dense,wan-480p', exitCode: 2 });
      const samplerChoice = flags.sampler === undefined ? undefined : parseChoice({ flag: '--sampler', value: flags.sampler, choices: SAMPLER_LOOPS });
      if (samplerChoice !== undefined && flags.sample !== true) throw new CliError({ message: '--sampler chooses the loop that --sample runs', fix: `pass --sample --sampler ${samplerChoice}`, exitCode: 2 });
      const backend = benchBackend({ dryRun: flags.dryRun === true, needsCublasLt: true });
      const sampler = samplerChoice ?? defaultSamplerLoop(backend);
      const live = !flags.json && process.stderr.isTTY;
      const { setup, rows } = await runDitBench({
        backend,
        shape,
        presets,
        steps,
        reps,
        profile: flags.profile === true,
        sample: flags.sample === true,
        sampler,
        ...(live ? { onStep: (preset: string, step: number, ms: number) => process.stderr.write(`${preset} sample step ${step + 1}/${steps}: ${ms.toFixed(0)} ms\n`) } : {}),
        ...(live ? { onPhase: (preset: string, p: { firstStep: number; steps: number; modes: string; forwardMs: number }) => process.stderr.write(`${preset} steps ${p.firstStep}.. x${p.steps} ${p.modes}: forward ${p.forwardMs.toFixed(1)} ms\n`) } : {}),
      });
      const device = deviceName(backend);
      const title = `${shape.config} DiT at ${shape.name}, batch 2, ${steps}-step sample on ${device}`;
      const result = { device, shape: shape.name, config: shape.config, grid: shape.grid, latentShape: setup.latentShape, batch: 2, steps, reps, dryRun: flags.dryRun === true, setup, results: rows };
      const files = flags.outDir === undefined ? null : await writeOutputs(flags.outDir, 'bench-dit', result, ditChart({ title, rows }));
      if (flags.json) {
        printJson({ ...result, files });
        return;
      }
      const table = formatTable({
        header: ['preset', 'phase steps', 'modes', 'forward ms', 'sample s', 'speed-up', 'peak GiB'],
        rows: rows.flatMap((r) =>
          r.phases.map((p, i) => [
            i === 0 ? r.preset : '',
            `${p.firstStep}.. x${p.steps}`,
            p.modes,
            p.forwardMs.toFixed(1),
            i === 0 ? r.sampleSeconds.toFixed(1) : '',
            i === 0 ? `x${r.speedup.toFixed(2)}` : '',
            i === 0 && r.peakBytes !== null ? (r.peakBytes / 2 ** 30).toFixed(2) : '',
          ]),
        ),
        right: [3, 4, 5, 6],
      });
      const out = [title, `weights ${(setup.weightBytes / 2 ** 30).toFixed(2)} GiB uploaded in ${setup.uploadSeconds.toFixed(1)} s; text ${setup.textSeconds.toFixed(2)} s`, table];
      for (const r of rows) if (r.measured) out.push(`sample ${r.preset}: ${r.measured.seconds.toFixed(1)} s measured over ${r.measured.stepMs.length} steps, ${r.measured.sampler} sampler (estimate ${r.sampleSeconds.toFixed(1)} s)`);
      for (const r of rows)
        for (const p of r.phases)
          if (p.profileMs) out.push(`profile ${r.preset} steps ${p.firstStep}..: ${Object.entries(p.profileMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}`);
      if (files) out.push('', `wrote ${files.json}, ${files.chart.svg} and ${files.chart.png} (${files.chart.width}x${files.chart.height})`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
  withExamples(command, [
    'fpsattn bench dit --shape wan-1.3b-480p --presets dense,wan-480p --out-dir bench-out',
    'fpsattn bench dit --shape wan-14b-720p --presets dense,fp8-only,wan-720p --json',
    'fpsattn bench dit --dry-run --steps 4 --presets dense,wan-480p',
    'fpsattn bench dit --shape wan-1.3b-720p --presets wan-720p --sample                  # device sampler (the default on CUDA)',
    'fpsattn bench dit --shape wan-1.3b-720p --presets wan-720p --sample --sampler host   # the host sampler, to compare',
  ]);
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmarks on the GPU: the attention op per mode (bench attention) and the Wan DiT per schedule preset (bench dit); a table, JSON and a chart')
    .addHelpText('after', '\nNeeds the CUDA backend on a Hopper GPU; without one it says why and exits 1 (--dry-run checks a command on the CPU).\n');
  withExamples(bench, ['fpsattn bench attention --shape wan-1.3b-720p --batch 2 --reps 10 --json --out-dir bench-out', 'fpsattn bench dit --shape wan-1.3b-480p --presets dense,wan-480p --out-dir bench-out']);
  registerAttention(bench);
  registerDit(bench);
}
