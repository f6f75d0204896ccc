// The benchmark chart: time per mode (or schedule preset) as grouped bars, one colour per series (the composed op
// and the kernel alone, or the DiT's sample time), with each bar's time and its speed-up over the baseline above it.
import { BAR_CHART_MARGINS } from './bar-chart';
import { PICTURE_COLORS } from './colors';
import { line, rect, svgDocument, text, type Picture } from './svg';

export interface BenchChartSeries {
  readonly label: string;
  readonly color: string;
}

export interface BenchChartGroup {
  /** Under the group: the mode or preset (and batch). */
  readonly label: string;
  /** One value per series (null: no bar). */
  readonly values: readonly (number | null)[];
  /** Speed-up of the group's first series over the baseline (printed above that bar), or null. */
  readonly speedup: number | null;
}

export interface BenchChartOptions {
  readonly name: string;
  readonly title: string;
  readonly series: readonly BenchChartSeries[];
  readonly groups: readonly BenchChartGroup[];
  /** Unit of the values, for the axis and the labels ('ms' or 's'). */
  readonly unit: string;
  readonly width?: number;
  readonly height?: number;
}

/** A round axis top: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(2));

export function benchChart(options: BenchChartOptions): Picture {
  const width = options.width ?? 900;
  const height = options.height ?? 420;
  const { left, right, top, bottom } = BAR_CHART_MARGINS;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = options.groups.flatMap((g) => g.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const yMax = niceMax(Math.max(0, ...all) * 1.15); // room for the labels above the tallest bar
  const n = Math.max(1, options.groups.length);
  const slot = Math.floor(plotW / n);
  const s = Math.max(1, options.series.length);
  const pad = Math.max(2, Math.floor(slot / 8));
  const barW = Math.max(1, Math.floor((slot - 2 * pad) / s));
  const body: string[] = [text(left, 22, options.title, { size: 15 })];
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - Math.round((plotH * i) / 4);
    body.push(line(left, y, left + plotW, y, PICTURE_COLORS.gridLine));
    body.push(text(left - 6, y + 4, `${fmt((yMax * i) / 4)} ${options.unit}`, { size: 11, anchor: 'end' }));
  }
  options.groups.forEach((g, gi) => {
    const x0 = left + gi * slot + pad;
    g.values.forEach((v, si) => {
      if (v === null || !Number.isFinite(v) || v <= 0) return;
      const h = Math.max(1, Math.round((Math.min(v, yMax) / yMax) * plotH));
      const x = x0 + si * barW;
      body.push(rect(x, top + plotH - h, Math.max(1, barW - 1), h, options.series[si]?.color ?? PICTURE_COLORS.bar));
      const note = si === 0 && g.speedup !== null && Number.isFinite(g.speedup) ? `${fmt(v)} x${g.speedup.toFixed(2)}` : fmt(v);
      body.push(text(x + barW / 2, top + plotH - h - 4, note, { size: 10, anchor: 'middle' }));
    });
    body.push(text(left + gi * slot + slot / 2, top + plotH + 16, g.label, { size: 10, anchor: 'middle' }));
  });
  body.push(line(left, top + plotH, left + plotW, top + plotH, PICTURE_COLORS.axis));
  let lx = left;
  for (const item of options.series) {
    body.push(rect(lx, 32, 12, 12, item.color), text(lx + 16, 42, item.label, { size: 12 }));
    lx += 24 + item.label.length * 7;
  }
  return { name: options.name, svg: svgDocument(width, height, body), width, height };
}
