// The colours of the pictures: opaque and distinct, so a test (or a person with a colour picker) can count them.
export const PICTURE_COLORS = Object.freeze({
  background: '#ffffff',
  token: '#e8e8e8',
  window: '#6baed6',
  query: '#fd8d3c',
  tileLine: '#252525',
  quantLine: '#2ca25f',
  maskOn: '#08519c',
  maskOff: '#f2f2f2',
  axis: '#444444',
  gridLine: '#dddddd',
  text: '#111111',
  phase: { warmup: '#969696', early: '#e6550d', middle: '#3182bd', late: '#31a354' },
  bar: '#756bb1',
  /** Benchmark series: the composed op (or the DiT sample) and the attention kernel alone. */
  bench: { composed: '#3182bd', kernel: '#bdbdbd' },
} as const);

/** `#rrggbb` as [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
