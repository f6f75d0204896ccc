// `fpsattn inspect <checkpoint>`: what a checkpoint holds and whether it is a Wan2.1 DiT this project can load.
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  WAN_CONFIG_PRESETS,
  WAN_PRESET_NAMES,
  WanConfigError,
  checkWanTensors,
  detectWanNaming,
  openCheckpoint,
  openPth,
  readWanConfig,
  wanPresetName,
  type SafetensorsTensorInfo,
  type TensorSource,
  type WanConfig,
  type WanNamingReport,
} from '@fpsattn/wan';
import type { Command } from 'commander';
import { withExamples } from '../_command';
import { CliError, EXIT_CODES, UsageError, errorLine } from '../_errors';
import { formatTable, printJson } from '../_format';

/** Dtypes a Wan weight may be stored in (each is widened to float32 on load). */
const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

export interface InspectReport {
  path: string;
  format: string;
  files: string[];
  tensors: number;
  parameters: number;
  bytes: number;
  dtypes: { dtype: string; tensors: number; parameters: number }[];
  naming: WanNamingReport | null;
  config: { file: string | null; fields: string | null; preset: string | null; matches: boolean; how: string } | null;
  metadata: Record<string, unknown>;
  problems: string[];
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

async function openAny(path: string): Promise<{ source: TensorSource; format: string; files: string[]; metadata: Record<string, unknown> }> {
  if (/\.(pth|pt|ckpt)$/i.test(path)) {
    const pth = await openPth(path);
    return { source: pth, format: `PyTorch zip archive (.pth, ${pth.archiveName})`, files: [path], metadata: {} };
  }
  const checkpoint = await openCheckpoint(path);
  const files = checkpoint.files.map((f) => f.path);
  const format = checkpoint.index ? `safetensors, sharded (${files.length} files, index ${checkpoint.index})` : 'safetensors (1 file)';
  const metadata = checkpoint.index ? { ...checkpoint.indexMetadata } : { ...(checkpoint.files[0]?.metadata ?? {}) };
  return { source: checkpoint, format, files, metadata };
}

/** Which Wan config the tensors match: the config.json next to them, else the first preset their shapes fit. */
async function matchConfig(options: { path: string; isDirectory: boolean; tensors: ReadonlyMap<string, SafetensorsTensorInfo>; naming: WanNamingReport; problems: string[] }): Promise<InspectReport['config']> {
  const { path, tensors, naming, problems } = options;
  const directory = options.isDirectory ? path : dirname(path);
  let config: WanConfig | null = null;
  let file: string | null = null;
  let fields: string | null = null;
  try {
    const read = await readWanConfig({ path: directory });
    config = read.config;
    file = read.file;
    fields = read.naming;
  } catch (error) {
    if (!(error instanceof WanConfigError && error.source === directory)) {
      problems.push(`config.json: ${errorLine(error)}`);
      return null;
    }
  }
  if (config !== null) {
    try {
      checkWanTensors({ config, tensors, source: path, naming: naming.naming });
      return { file, fields, preset: wanPresetName(config), matches: true, how: 'tensors match config.json' };
    } catch (error) {
      problems.push(`tensors do not match ${file}: ${errorLine(error)}`);
      return { file, fields, preset: wanPresetName(config), matches: false, how: 'tensors differ from config.json' };
    }
  }
  for (const name of WAN_PRESET_NAMES) {
    try {
      checkWanTensors({ config: WAN_CONFIG_PRESETS[name], tensors, source: path, naming: naming.naming });
      return { file: null, fields: null, preset: name, matches: true, how: `no config.json; tensor shapes match preset ${name}` };
    } catch {
      // try the next preset
    }
  }
  problems.push(`no config.json next to the checkpoint and the tensors match no Wan preset (${WAN_PRESET_NAMES.join(', ')}): add the model's config.json`);
  return { file: null, fields: null, preset: null, matches: false, how: 'no config.json; no preset matches' };
}

export async function inspectCheckpoint(path: string): Promise<InspectReport> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new UsageError({ message: `${path} does not exist (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'})`, fix: 'pass a .safetensors file, a *.safetensors.index.json, a folder holding one, or a .pth file', cause });
  }
  const { source, format, files, metadata } = await openAny(path);
  try {
    const tensors = source.tensors;
    const byDtype = new Map<string, { tensors: number; parameters: number }>();
    let parameters = 0;
    let bytes = 0;
    for (const info of tensors.values()) {
      const n = numel(info.shape);
      parameters += n;
      bytes += info.byteLength;
      const d = byDtype.get(info.dtype) ?? { tensors: 0, parameters: 0 };
      d.tensors++;
      d.parameters += n;
      byDtype.set(info.dtype, d);
    }
    const problems: string[] = [];
    if (tensors.size === 0) problems.push('the checkpoint holds no tensors');
    let naming: WanNamingReport | null = null;
    let config: InspectReport['config'] = null;
    if (tensors.size > 0) {
      try {
        naming = detectWanNaming({ names: tensors.keys(), source: path });
      } catch (error) {
        problems.push(`not a Wan2.1 DiT checkpoint: ${errorLine(error)}`);
      }
    }
    if (naming) {
      // Only a Wan checkpoint must hold floats (a VAE or text encoder .pth may legitimately hold integer buffers).
      for (const [dtype, d] of byDtype) {
        if (!FLOAT_DTYPES.has(dtype)) problems.push(`${d.tensors} tensor(s) of dtype ${dtype}: Wan weights must be floats (F32, F16, BF16, F64, F8_E4M3, F8_E5M2)`);
      }
      config = await matchConfig({ path, isDirectory, tensors, naming, problems });
    }
    return {
      path,
      format,
      files,
      tensors: tensors.size,
      parameters,
      bytes,
      dtypes: [...byDtype].map(([dtype, d]) => ({ dtype, ...d })).sort((a, b) => b.parameters - a.parameters),
      naming,
      config,
      metadata,
      problems,
    };
  } finally {
    await source.close();
  }
}

const human = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

export function formatInspect(r: InspectReport): string {
  const lines = [
    `checkpoint:  ${r.path}`,
    `format:      ${r.format}`,
    `tensors:     ${r.tensors}, ${human(r.parameters)} parameters (${r.parameters}), ${(r.bytes / 2 ** 20).toFixed(1)} MiB of data`,
    `naming:      ${r.naming ? `${r.naming.naming} (e.g. ${JSON.stringify(r.naming.evidence)}; ${r.naming.recognized} names only this scheme uses)` : 'unknown'}`,
    `config:      ${r.config ? `${r.config.file ?? '(none)'}${r.config.fields ? ` (${r.config.fields} fields)` : ''}: ${r.config.preset ?? 'custom'}; ${r.config.how}` : 'not checked'}`,
    '',
    formatTable({
      header: ['dtype', 'tensors', 'parameters'],
      rows: r.dtypes.map((d) => [d.dtype, String(d.tensors), String(d.parameters)]),
      right: [1, 2],
    }),
    '',
    r.problems.length === 0 ? 'problems:    none' : `problems (${r.problems.length}):\n${r.problems.map((p) => `  - ${p}`).join('\n')}`,
  ];
  return lines.join('\n');
}

export function registerInspect(program: Command): void {
  const command = program
    .command('inspect')
    .description('what a checkpoint holds: format, dtypes, parameter count, naming scheme, config match, problems found (exit 1 when there are problems)')
    .argument('<checkpoint>', 'a .safetensors file, a *.safetensors.index.json, a folder holding one, or a .pth file')
    .option('--json', 'print the report as JSON')
    .action(async (path: string, options: { json?: boolean }) => {
      const report = await inspectCheckpoint(path);
      if (options.json) printJson(report);
      else process.stdout.write(`${formatInspect(report)}\n`);
      if (report.problems.length > 0) {
        throw new CliError({ message: `${report.problems.length} problem(s) found in ${path}`, fix: 'see the problems listed above', exitCode: EXIT_CODES.failure });
      }
    });
  withExamples(command, [
    'fpsattn inspect ./Wan2.1-T2V-1.3B',
    'fpsattn inspect ./Wan2.1-T2V-14B/diffusion_pytorch_model.safetensors.index.json --json',
    'fpsattn inspect ./Wan2.1_VAE.pth',
  ]);
}
