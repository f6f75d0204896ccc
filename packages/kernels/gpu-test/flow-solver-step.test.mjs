// GPU suite of flowSolverStep (the device sampler's step): the CUDA kernel against its CPU twin bit for bit, for every
// update (Euler, UniPC first / last step, the last step landing on x0, UniPC with the corrector), in place and not, at
// Wan's latent sizes, with the outputs poisoned first (0xffffffff, a NaN no finite input produces) so that a skipped
// element fails; and the first non-finite index (NaN, infinity, and a guidance that overflows float32). Sizes: real =
// 720p latents [16, 21, 90, 160] (4.84M), medium = 480p [16, 21, 60, 104], small = ragged 1,000,003 and 37. Without a
// usable CUDA device every test is skipped with the reason; FPSATTN_GPU_TEST_ON_CPU=1 dry-runs the logic on the CPU.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const ON_CPU = process.env.FPSATTN_GPU_TEST_ON_CPU === '1';
const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? (ON_CPU ? 'small' : 'medium');
const N = { real: 16 * 21 * 90 * 160, medium: 16 * 21 * 60 * 104, small: 1_000_003 }[SIZE];
if (!N) throw new Error(`FPSATTN_GPU_TEST_SIZE must be real, medium or small, got ${SIZE}`);

const { backend, skipReason } = T.gpuTestBackend({ suite: 'flowSolverStep GPU suite', dryRun: { device: { name: 'CPU (dry run)', major: 0, minor: 0 } } });
if (!skipReason) console.log(`# flowSolverStep GPU suite on ${backend.device.name}, size ${SIZE}: n = ${N}`);

const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

/** Coefficients of the size a 50-step Wan schedule gives (ratios near 1, alpha phi1 and alpha B small, negative). */
const predictor = { ratio: 0.9712, alphaPhi1: -0.02391, alphaBh: -0.02377, rhoD: 0.5093, landsOnX0: false };
const corrector = { ratio: 0.9684, alphaPhi1: -0.02612, alphaBh: -0.02598, rhoD: 0.2571, rhoLast: 0.5124 };

function assertBits(actual, expected, label) {
  const at = T.bitsEqual(actual, expected);
  assert.equal(at, -1, `${label}: first difference at ${at}: ${actual[at]} vs ${expected[at]}`);
}

async function stepCase({ n, update, inPlace, seed, label }) {
  const host = { cond: T.randomF32(n, seed, 3), uncond: T.randomF32(n, seed + 1, 3), sample: T.randomF32(n, seed + 2, 2) };
  const state = { lastBase: T.randomF32(n, seed + 3, 2), previousX0: T.randomF32(n, seed + 4, 2), earlierX0: T.randomF32(n, seed + 5, 2) };
  const up = (a) => keep(backend.fromArray(a, [n], 'f32'));
  const poisoned = () => keep(backend.empty([n], 'f32').fillBytes(0xff));
  const sample = up(host.sample);
  const out = inPlace ? sample : poisoned();
  const unipc = update.kind === 'unipc';
  const x0 = unipc ? poisoned() : null;
  const base = unipc ? poisoned() : null;
  const corr = unipc && update.corrector ? { ...update.corrector, lastBase: up(state.lastBase), previousX0: up(state.previousX0), earlierX0: up(state.earlierX0) } : undefined;
  const nonFinite = keep(backend.empty([1], 'i32').fillBytes(0x7f));
  const devUpdate = unipc ? { ...update, x0, base, ...(corr ? { corrector: corr } : {}) } : update;
  K.flowSolverStep({ cond: up(host.cond), uncond: up(host.uncond), guidance: 5, sample, out, update: devUpdate, nonFinite });

  const ref = { out: new Float32Array(n), x0: new Float32Array(n), base: new Float32Array(n), flag: Int32Array.of(0x7f7f7f7f) };
  const refUpdate = unipc ? { ...update, x0: ref.x0, base: ref.base, ...(update.corrector ? { corrector: { ...update.corrector, ...state } } : {}) } : update;
  K.flowSolverStepCpu({ ...host, guidance: 5, out: ref.out, update: refUpdate, nonFinite: ref.flag });
  assertBits(await out.download(), ref.out, `${label} out`);
  if (unipc) {
    assertBits(await x0.download(), ref.x0, `${label} x0`);
    assertBits(await base.download(), ref.base, `${label} base`);
  }
  assert.equal((await nonFinite.download())[0], 0x7f7f7f7f, `${label}: no non-finite velocity`);
}

const opts = { skip: skipReason };
describe(`flowSolverStep on CUDA vs its CPU twin (${SIZE})`, opts, () => {
  for (const n of [N, 37]) {
    test(`every update bit for bit, in place and not (n = ${n})`, async () => {
      let seed = 10;
      for (const inPlace of [true, false]) {
        await stepCase({ n, update: { kind: 'euler', dt: -0.0213 }, inPlace, seed: (seed += 10), label: `euler inPlace=${inPlace}` });
        await stepCase({ n, update: { kind: 'unipc', sigma: 0.9963, predictor: { ...predictor, rhoD: 0 } }, inPlace, seed: (seed += 10), label: `unipc first inPlace=${inPlace}` });
        await stepCase({ n, update: { kind: 'unipc', sigma: 0.0321, predictor: { ratio: 0, alphaPhi1: 0, alphaBh: 0, rhoD: 0, landsOnX0: true } }, inPlace, seed: (seed += 10), label: `unipc lands on x0 inPlace=${inPlace}` });
        await stepCase({ n, update: { kind: 'unipc', sigma: 0.8127, predictor, corrector }, inPlace, seed: (seed += 10), label: `unipc corrected inPlace=${inPlace}` });
      }
    });
  }

  test('records the first non-finite guided velocity', async () => {
    const cases = [
      { poison: [[N - 1, Number.NaN]], expected: N - 1 },
      { poison: [[N - 5, Number.POSITIVE_INFINITY], [7, Number.NaN], [N >> 1, Number.NEGATIVE_INFINITY]], expected: 7 },
      { poison: [[3, 3e38]], uncondAt3: -3e38, expected: 3 }, // 5 (c - u) overflows float32 in the guided value
    ];
    for (const c of cases) {
      const cond = T.randomF32(N, 91, 1);
      const uncond = T.randomF32(N, 92, 1);
      for (const [i, v] of c.poison) cond[i] = v;
      if (c.uncondAt3 !== undefined) uncond[3] = c.uncondAt3;
      const x = keep(backend.fromArray(T.randomF32(N, 93, 1), [N], 'f32'));
      const flag = keep(backend.empty([1], 'i32').fillBytes(0x7f));
      K.flowSolverStep({ cond: keep(backend.fromArray(cond, [N], 'f32')), uncond: keep(backend.fromArray(uncond, [N], 'f32')), guidance: 5, sample: x, out: x, update: { kind: 'euler', dt: -0.02 }, nonFinite: flag });
      assert.equal((await flag.download())[0], c.expected);
    }
  });
});
