#!/usr/bin/env node
// A small tour of @fpsattn/fp8: quantize a [tokens, heads x 128] tensor to E4M3 with one scale per 3D-tile-sized
// group of tokens and head (as FPSAttention does for Q and K), with per-channel scales (as for V), and per tensor,
// then compare each round trip with the original.
import { dequantize, encodeFp8, errorStats, perChannel, perGroup, perTensor, quantize } from '@fpsattn/fp8';
import { createRng, randomFloat32 } from '@fpsattn/fp8/testing';

const tokens = 4 * 6 * 10; // a 4x6x10 token grid
const heads = 2;
const headDim = 128;
const cols = heads * headDim;
const data = randomFloat32({ rng: createRng(42), length: tokens * cols, outlierFraction: 0.005, outlierScale: 30, bf16: true });

// Tokens in tile-major order, 60 tokens per tile: four groups.
const tileTokens = 60;
const groupOfRow = Int32Array.from({ length: tokens }, (_, t) => Math.floor(t / tileTokens));

console.log(`E4M3: 1.0 -> 0x${encodeFp8({ value: 1, format: 'e4m3' }).toString(16)}, 448 -> 0x${encodeFp8({ value: 448, format: 'e4m3' }).toString(16)}, 1e6 -> 0x${encodeFp8({ value: 1e6, format: 'e4m3' }).toString(16)} (saturated)`);
console.log(`quantizing a [${tokens}, ${cols}] BF16-valued tensor with outliers:`);
const rows = [
  ['per tensor', perTensor()],
  ['per tile x head (Q, K)', perGroup({ groupOfRow, groupCount: tokens / tileTokens, columnsPerScale: headDim })],
  ['per channel (V)', perChannel()],
].map(([name, granularity]) => {
  const q = quantize({ data, rows: tokens, cols, format: 'e4m3', granularity });
  const s = errorStats({ reference: data, approx: dequantize({ quantized: q }) });
  return { granularity: name, scales: q.scales.length, 'rel L2': s.relativeL2.toExponential(3), cosine: s.cosine.toFixed(6), 'SNR dB': s.snrDb.toFixed(2) };
});
console.table(rows);
