// The files a `fpsattn generate` run writes next to its latents (`--out x.safetensors`): x.manifest.json, x.mp4,
// x.first.png and x.sheet.png.
import { basename } from 'node:path';

/** One file of the run, as the manifest lists it (`bytes` null for the manifest itself). */
export interface OutputFile {
  kind: string;
  path: string;
  bytes: number | null;
}

export function manifestPathFor(out: string): string {
  return out.replace(/\.safetensors$/, '.manifest.json');
}

/** The base name of the video outputs: `run/x.safetensors` -> `x` (`x.mp4`, `x.first.png`, `x.sheet.png` next to it). */
export function videoBaseFor(out: string): string {
  return basename(out).replace(/\.safetensors$/, '');
}
