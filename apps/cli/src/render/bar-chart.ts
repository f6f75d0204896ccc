// A bar chart as SVG: one bar per label, coloured per bar, y axis from 0 to `yMax` with four grid lines.
import { PICTURE_COLORS } from './colors';
import { line, rect, svgDocument, text, type Picture } from './svg';

export interface BarChartOptions {
  name: string;
  title: string;
  labels: readonly string[];
  values: readonly number[];
  colors: readonly string[];
  yMax: number;
  yLabel: (v: number) => string;
  legend?: readonly { label: string; color: string }[];
  width?: number;
  height?: number;
}

/** Plot area: x from 60 to width - 20, y from 60 to height - 50 (title on the first line, legend on the second). */
export const BAR_CHART_MARGINS = Object.freeze({ left: 60, right: 20, top: 60, bottom: 50 });

export function barChart(options: BarChartOptions): Picture {
  const width = options.width ?? 800;
  const height = options.height ?? 400;
  const { left, right, top, bottom } = BAR_CHART_MARGINS;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = options.labels.length;
  const slot = Math.max(1, Math.floor(plotW / Math.max(1, n)));
  const gap = slot >= 6 ? Math.max(1, Math.floor(slot / 6)) : 0;
  const body: string[] = [text(left, 22, options.title, { size: 15 })];
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - Math.round((plotH * i) / 4);
    body.push(line(left, y, left + plotW, y, PICTURE_COLORS.gridLine));
    body.push(text(left - 6, y + 4, options.yLabel((options.yMax * i) / 4), { size: 11, anchor: 'end' }));
  }
  const labelEvery = Math.max(1, Math.ceil(n / 25));
  options.values.forEach((v, i) => {
    const h = Math.round((Math.max(0, Math.min(v, options.yMax)) / options.yMax) * plotH);
    const x = left + i * slot;
    if (h > 0) body.push(rect(x + gap, top + plotH - h, slot - 2 * gap, h, options.colors[i] ?? PICTURE_COLORS.bar));
    if (i % labelEvery === 0) body.push(text(x + slot / 2, top + plotH + 16, options.labels[i] ?? '', { size: 10, anchor: 'middle' }));
  });
  body.push(line(left, top + plotH, left + plotW, top + plotH, PICTURE_COLORS.axis));
  let lx = left;
  for (const item of options.legend ?? []) {
    body.push(rect(lx, 32, 12, 12, item.color), text(lx + 16, 42, item.label, { size: 12 }));
    lx += 24 + item.label.length * 7;
  }
  return { name: options.name, svg: svgDocument(width, height, body), width, height };
}
