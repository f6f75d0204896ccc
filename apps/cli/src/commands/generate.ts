// `fpsattn generate`: Wan2.1 text-to-video latents from a prompt (umT5 tokenizer, then the umT5 encoder; embeddings
// cached) or from text embeddings, with an FPSAttention schedule, on the GPU when there is one and on the CPU otherwise;
// writes the latents (.safetensors), decodes them with the Wan-VAE to an mp4, a first-frame PNG and a contact sheet, and
// writes a run manifest (.manifest.json). On CUDA the text encoder, the DiT and the VAE run on the device one after the
// other, each stage's weights uploaded at its start and freed at its end (never two stages' weights at once); on the
// CPU backend the encoder and the VAE run their float32 host references (--text-encoder-device/--vae-device choose).
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { defaultAttentionGeometryCache } from '@fpsattn/attention';
import { loadBackend } from '@fpsattn/kernels';
import { SCHEDULE_PRESET_NAMES } from '@fpsattn/scheduler';
import { SAMPLER_LOOPS, SOLVER_NAMES, WAN_T2V_SAMPLING_DEFAULTS, defaultSamplerLoop, type Checkpoint } from '@fpsattn/wan';
import type { Command } from 'commander';
import { globalOptions, withExamples } from '../_command';
import { writeFileAtomic } from '../_atomic-write';
import { DeviceMemoryTracker } from '../_device-memory';
import { CliError } from '../_errors';
import { printJson } from '../_format';
import { BUILT_IN_VAE, loadVae, resolveVaeSource } from '../_vae';
import { listenForCtrlC } from '../generate/ctrl-c';
import { runDecodeStage } from '../generate/decode-stage';
import { BUILT_IN_MODEL, attentionGeometry, openDitModel } from '../generate/dit-model';
import { checkGivenFilesExist, findTextInputs } from '../generate/input-files';
import { buildRunManifest } from '../generate/manifest';
import { RELEASED_DEFAULTS, TINY_DEFAULTS, parseGenerateFlags, type GenerateFlags } from '../generate/options';
import { manifestPathFor } from '../generate/output-files';
import { formatRunSummary } from '../generate/run-summary';
import { runSampleStage } from '../generate/sample-stage';
import { resolveSchedule, stepsWithSchedule } from '../generate/schedule';
import { stageBackend } from '../generate/stage-device';
import { runTextStage } from '../generate/text-stage';
import { BUILT_IN_TEXT_ENCODER } from '../text/encode-prompts';
import { FFMPEG_ENV } from './doctor';

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description(
      'Wan2.1 text-to-video from a prompt (umT5 tokenizer and encoder on the CPU, embeddings cached) or from text embeddings, with an FPSAttention schedule (built-in tiny synthetic model or a checkpoint): writes the latents, decodes them with the Wan-VAE to an mp4, a first-frame PNG and a contact sheet, and writes a run manifest. The VAE runs on the CPU for now: seconds at the tiny sizes, very slow at 480p/720p',
    )
    .option('--model <name>', `the built-in model (synthetic weights): ${BUILT_IN_MODEL}; used when no --checkpoint is given`)
    .option('--checkpoint <path>', 'a Wan2.1 DiT checkpoint: .safetensors file, index or folder with config.json')
    .option('--prompt <text>', `the prompt: cleaned as Wan does (ftfy, HTML unescaping, whitespace), tokenized with umT5's tokenizer (truncated to the model's text length, 512 for Wan), encoded by umT5 on the CPU (the built-in model: a synthetic tokenizer and ${BUILT_IN_TEXT_ENCODER}); embeddings cached per text and encoder`)
    .option('--negative-prompt <text>', "the negative prompt for classifier-free guidance (default, and when empty: Wan's default negative prompt)")
    .option('--tokenizer <path>', "umT5's tokenizer.json or its folder (default: next to the checkpoint, google/umt5-xxl/ or tokenizer/)")
    .option('--text-encoder <path>', `the umT5 encoder: ${'models_t5_umt5-xxl-enc-bf16.pth'}, a diffusers text_encoder/ folder (default: next to the checkpoint)`)
    .option('--cache-dir <dir>', 'where encoded prompts are cached (default $FPSATTN_CACHE_DIR, else $XDG_CACHE_HOME/fpsattn or ~/.cache/fpsattn, then text-embeddings/)')
    .option('--no-cache', 'encode the prompts without reading or writing the cache')
    .option('--embeddings <file>', 'text embeddings instead of --prompt (.safetensors with "prompt" and "negative_prompt" [tokens, textDim]); synthetic for the built-in model when neither is given')
    .option('--width <px>', `video width, a multiple of 16 (default ${TINY_DEFAULTS.width} built-in, ${RELEASED_DEFAULTS.width} checkpoint)`)
    .option('--height <px>', `video height, a multiple of 16 (default ${TINY_DEFAULTS.height} built-in, ${RELEASED_DEFAULTS.height} checkpoint)`)
    .option('--frames <n>', `video frames, 4k + 1 (default ${TINY_DEFAULTS.frames} built-in, ${RELEASED_DEFAULTS.frames} checkpoint)`)
    .option('--steps <n>', `denoising steps (default ${TINY_DEFAULTS.steps} built-in, ${RELEASED_DEFAULTS.steps} checkpoint, or the schedule config's)`)
    .option('--shift <x>', `flow-matching shift (default ${WAN_T2V_SAMPLING_DEFAULTS.shift})`)
    .option('--guidance <x>', `classifier-free guidance scale (default ${WAN_T2V_SAMPLING_DEFAULTS.guidance})`)
    .option('--solver <name>', `${SOLVER_NAMES.join(' or ')}`, WAN_T2V_SAMPLING_DEFAULTS.solver)
    .option('--sampler <loop>', `${SAMPLER_LOOPS.join(' or ')}: where the latents stay during sampling: device (one kernel per step for guidance and the solver update, only the final latents downloaded) or host (velocities downloaded each step, the update in JavaScript); the same latents bit for bit (default: device on CUDA, host on the CPU backend)`)
    .option('--seed <n>', 'noise seed', '42')
    .option('--schedule <s>', `attention schedule: fpsattn (for the run's grid), dense, a preset (${SCHEDULE_PRESET_NAMES.join(', ')}) or a .json config`, 'fpsattn')
    .option('--backend <b>', 'auto (CUDA when a Hopper GPU answers, else CPU), cpu or cuda (default $FPSATTN_BACKEND, else auto)')
    .option('--out <file>', 'the latents file (.safetensors); the manifest (.manifest.json) and the video (.mp4, .first.png, .sheet.png) go next to it', 'latents.safetensors')
    .option('--decode', `decode the latents to frames and an mp4 (default when a VAE is available: ${BUILT_IN_VAE} for the built-in model, --vae or the checkpoint folder's Wan2.1_VAE.pth / vae/). The VAE runs on the CPU for now: slow at real sizes`)
    .option('--no-decode', 'write the latents and the manifest only')
    .option('--vae <path>', 'the Wan-VAE: Wan2.1_VAE.pth, a diffusers vae/ folder or a folder holding either (default: next to the checkpoint)')
    .option('--text-encoder-device <d>', "where umT5 runs: auto (the device when the backend is CUDA, else the CPU's float32 reference), cpu, or backend (the run's backend, also the CPU backend's BF16 twins)", 'auto')
    .option('--vae-device <d>', "where the VAE decodes: auto (the device when the backend is CUDA, else the CPU's float32 reference in a worker), cpu, or backend (the run's backend)", 'auto')
    .option('--progress <mode>', 'auto (a bar on a terminal, quiet otherwise), bar, lines or none', 'auto')
    .option('--json', 'print the run manifest as JSON')
    .action(async (flags: GenerateFlags, cmd: Command) => {
      const started = performance.now();
      // ----- every usage error before any work: the flags, the files they name, the tokenizer, the VAE's source
      const run = parseGenerateFlags(flags);
      const { builtIn, width, height, frames, seed, out, progressMode } = run;
      const video = { width, height, frames };
      await checkGivenFilesExist({ checkpoint: flags.checkpoint, embeddings: flags.embeddings });
      const textInputs = flags.prompt === undefined ? null : await findTextInputs({ builtIn, checkpoint: flags.checkpoint, tokenizer: flags.tokenizer, textEncoder: flags.textEncoder });
      const vaeChoice = await resolveVaeSource({ decode: flags.decode, vae: flags.vae, checkpoint: flags.checkpoint });
      const ffmpegPath = process.env[FFMPEG_ENV] || undefined;

      const { backend } = loadBackend({ backend: run.backendChoice });
      const sampler = run.sampler ?? defaultSamplerLoop(backend);
      const ctrlC = listenForCtrlC(out);
      const { signal } = ctrlC;
      // Device memory per stage (text, sample, decode): each stage's weights are uploaded at its start and freed at its end.
      const memory = new DeviceMemoryTracker(backend);
      const textBackend = textInputs === null ? null : stageBackend(run.textEncoderDevice, backend);
      const vaeBackend = vaeChoice.source === null ? null : stageBackend(run.vaeDevice, backend);
      const say = (line: string) => {
        if (progressMode !== 'none') process.stderr.write(`${line}\n`);
      };
      const stage = { memory, progressMode, signal, say };
      const loadStart = performance.now();
      let checkpoint: Checkpoint | null = null;
      try {
        // ----- model, schedule: the VAE first (host weights only; uploaded for the decode), so a wrong --vae fails in a
        // second, not after the DiT has loaded; the DiT's config (a checkpoint's names and shapes checked), its weights later.
        if (vaeChoice.source !== null) say(`loading the VAE (${vaeChoice.source.kind === 'synthetic' ? `built-in ${BUILT_IN_VAE}, synthetic` : vaeChoice.source.path})`);
        const vae = vaeChoice.source === null ? null : await loadVae(vaeChoice.source);
        const ditModel = await openDitModel(flags.checkpoint);
        checkpoint = ditModel.checkpoint;
        const { config } = ditModel;
        const { grid, model } = attentionGeometry({ config, width, height, frames });
        if (vae !== null && vae.config.zDim !== config.outDim) {
          throw new CliError({ message: `the VAE takes ${vae.config.zDim} latent channels, the model makes ${config.outDim}`, fix: 'pass a Wan2.1 VAE that fits the model with --vae, or --no-decode' });
        }
        const stepsGiven = flags.steps !== undefined;
        const steps = await stepsWithSchedule({ value: flags.schedule, steps: run.steps, stepsGiven });
        const schedule = await resolveSchedule({ value: flags.schedule, grid, steps, stepsGiven, model });

        // ----- the stages, one after the other
        const text = await runTextStage({ flags, text: textInputs, config, seed, backend: textBackend, ...stage });
        // The sample stage closes the checkpoint once the weights are up (closing it again below is a no-op).
        const sampling = { width, height, frames, seed, steps, shift: run.shift, guidance: run.guidance, solver: run.solver, sampler };
        const sample = await runSampleStage({ backend, config, checkpoint, embeddings: text.embeddings, sampling, schedule: schedule.config, out, ...stage });
        // The text stage runs inside the load span; report it on its own.
        const loadS = (sample.loadedAt - loadStart) / 1000 - text.seconds;
        const manifestPath = manifestPathFor(out);
        const latentsBytes = (await stat(out)).size;
        const decode = await runDecodeStage({ vae, backend: vaeBackend, result: sample.result, video, out, ffmpegPath, ...stage });

        // ----- the manifest, then the summary
        const files = [{ kind: 'latents', path: out, bytes: latentsBytes }, ...(decode.video?.files ?? []), { kind: 'manifest', path: manifestPath, bytes: null }];
        const manifest = buildRunManifest({
          startedAt: started,
          backend,
          checkpointPath: flags.checkpoint,
          config,
          embeddingsPath: flags.embeddings,
          text,
          video,
          grid,
          sampling,
          schedule,
          vae,
          vaeBackend,
          vaeReason: vaeChoice.reason,
          loadS,
          sample,
          decode,
          out,
          latentsBytes,
          manifestPath,
          files,
        });
        await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
        if (flags.json) printJson(manifest);
        else {
          process.stdout.write(
            formatRunSummary({
              modelLabel: builtIn ? BUILT_IN_MODEL : (flags.checkpoint as string),
              backendName: backend.name,
              steps,
              scheduleName: schedule.name,
              sample,
              out,
              decoding: vae !== null,
              vaeReason: vaeChoice.reason,
              vaeBackendName: vaeBackend?.name ?? null,
              decode,
              files,
              manifestPath,
            }),
          );
        }
        if (globalOptions(cmd).verbose) process.stderr.write(`steps: ${sample.modes.map((m, i) => `${i}:${m}`).join(' ')}\n`);
        if (decode.failure !== null) throw decode.failure;
      } finally {
        ctrlC.stop();
        defaultAttentionGeometryCache.clear();
        await checkpoint?.close().catch(() => undefined);
        memory.uninstall();
      }
    });
  withExamples(command, [
    'fpsattn generate --prompt "a red fox running through snow"   # built-in tiny model: synthetic tokenizer and umt5-tiny',
    'fpsattn generate --checkpoint ./Wan2.1-T2V-1.3B --prompt "a red fox running through snow" --negative-prompt "blurry" --out run/fox.safetensors',
    'fpsattn generate                                   # latents.safetensors, latents.mp4, .first.png, .sheet.png, .manifest.json',
    'fpsattn generate --steps 2 --width 96 --height 64 --frames 5 --out run/clip.safetensors',
    'fpsattn generate --steps 4 --width 64 --height 64 --frames 5 --schedule dense --no-decode --out dense.safetensors',
    'fpsattn generate --checkpoint ./Wan2.1-T2V-1.3B --embeddings prompt.safetensors --steps 50 --out run/latents.safetensors   # VAE: ./Wan2.1-T2V-1.3B/Wan2.1_VAE.pth (CPU: slow)',
    'fpsattn generate --checkpoint ./diffusers/transformer --embeddings prompt.safetensors --vae ./diffusers/vae --out run/latents.safetensors',
    'fpsattn generate --schedule my-schedule.json --seed 7 --json',
    'fpsattn generate --backend cuda --sampler host --out run/host.safetensors   # the host sampler (CUDA default: device; the same latents)',
  ]);
}
