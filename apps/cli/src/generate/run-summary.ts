// What `fpsattn generate` prints on stdout without --json: the sampling in one line, the video, and where the
// manifest is.
import type { DecodeStage } from './decode-stage';
import type { OutputFile } from './output-files';
import type { SampleStage } from './sample-stage';

export function formatRunSummary(options: {
  /** The built-in model's name or --checkpoint as given. */
  modelLabel: string;
  backendName: string;
  steps: number;
  scheduleName: string;
  sample: SampleStage;
  out: string;
  /** Whether a VAE was to decode, and why it was not (the manifest's decode.reason). */
  decoding: boolean;
  vaeReason: string;
  /** The backend the VAE ran on, or null for the CPU. */
  vaeBackendName: string | null;
  decode: DecodeStage;
  files: readonly OutputFile[];
  manifestPath: string;
}): string {
  const { sample, decode } = options;
  const { stepMs } = sample;
  const median = [...stepMs].sort((a, b) => a - b)[Math.floor(stepMs.length / 2)] ?? 0;
  const mp4 = decode.video?.mp4 ?? null;
  let video = `video: none (${options.vaeReason})\n`;
  if (options.decoding && decode.videoShape !== null) {
    const [, t, h, w] = decode.videoShape as [number, number, number, number];
    const pngs = options.files.filter((f) => f.kind.endsWith('-png')).map((f) => f.path);
    video =
      `decoded ${t} frames of ${w}x${h} in ${(decode.decodeS ?? 0).toFixed(2)} s (VAE on ${options.vaeBackendName === null ? 'the CPU' : `${options.vaeBackendName}, device decoder`}), encoded in ${(decode.video?.seconds ?? 0).toFixed(2)} s\n` +
      (mp4 !== null ? `mp4 -> ${mp4.path}\n` : '') +
      (pngs.length > 0 ? `pngs -> ${pngs.join(', ')}\n` : '');
  } else if (options.decoding) video = '';
  return (
    `${options.modelLabel} on ${options.backendName}: ${options.steps} steps (${options.scheduleName}) with the ${sample.result.sampler} sampler in ${sample.seconds.toFixed(2)} s, median ${median.toFixed(1)} ms/step; ` +
    `latents [${sample.result.latentShape.join(', ')}] -> ${options.out}\n${video}manifest -> ${options.manifestPath}\n`
  );
}
