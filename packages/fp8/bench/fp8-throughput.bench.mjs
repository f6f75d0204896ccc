#!/usr/bin/env node
// Bulk FP8 encode/decode throughput on 16M float32 values (a benchmark, not a test: nothing here can fail on speed).
// Usage: npm run bench -w @fpsattn/fp8   (after npm run build). Prints the median of 7 runs per case.
import { performance } from 'node:perf_hooks';
import { decodeFp8Array, encodeBf16Array, encodeFp8Array } from '../dist/index.js';
import { createRng, randomFloat32 } from '../dist/testing.js';

const N = 16 * 1024 * 1024;
const RUNS = 7;
const input = randomFloat32({ rng: createRng(7), length: N, std: 30, outlierFraction: 0.001 });
const codes = new Uint8Array(N);
const decoded = new Float32Array(N);
const bf16 = new Uint16Array(N);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function bench(name, fn) {
  fn(); // warm-up: JIT and page faults stay out of the timings
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  return { case: name, 'median ms': ms.toFixed(1), 'Mvalues/s': (N / ms / 1e3).toFixed(0) };
}

const rows = [
  bench('encodeFp8Array e4m3 (saturating)', () => encodeFp8Array({ input, format: 'e4m3', out: codes })),
  bench('encodeFp8Array e5m2 (saturating)', () => encodeFp8Array({ input, format: 'e5m2', out: codes })),
  bench('decodeFp8Array e4m3', () => decodeFp8Array({ codes, format: 'e4m3', out: decoded })),
  bench('encodeBf16Array', () => encodeBf16Array({ input, out: bf16 })),
];
console.log(`fp8 bulk throughput, ${N.toLocaleString('en-US')} values, median of ${RUNS}, Node ${process.version}`);
console.table(rows);
