// SVG text helpers and the SVG -> PNG step (@resvg/resvg-js: a Rust renderer, no browser), with atomic writes.
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '../_atomic-write';
import { PICTURE_COLORS } from './colors';

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function rect(x: number, y: number, w: number, h: number, fill: string): string {
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}"/>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1, dash?: string): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

export function text(x: number, y: number, s: string, options: { size?: number; anchor?: 'start' | 'middle' | 'end'; fill?: string } = {}): string {
  return `<text x="${x}" y="${y}" font-family="${FONT}" font-size="${options.size ?? 12}" text-anchor="${options.anchor ?? 'start'}" fill="${options.fill ?? PICTURE_COLORS.text}">${escapeXml(s)}</text>`;
}

/** A whole SVG document: white background, crisp edges (cells land on whole pixels, so colours can be counted). */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" shape-rendering="crispEdges">`,
    rect(0, 0, width, height, PICTURE_COLORS.background),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** A picture: its SVG text and pixel size. */
export interface Picture {
  readonly name: string;
  readonly svg: string;
  readonly width: number;
  readonly height: number;
}

/** Renders an SVG to PNG at its own size. */
export function renderPng(svg: string): Uint8Array {
  const resvg = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return resvg.render().asPng();
}

export interface WrittenPicture {
  readonly name: string;
  readonly svg: string;
  readonly png: string;
  readonly width: number;
  readonly height: number;
}

/** Writes `<dir>/<name>.svg` and `<dir>/<name>.png`, each through a temporary name. */
export async function writePicture(dir: string, picture: Picture): Promise<WrittenPicture> {
  const svg = join(dir, `${picture.name}.svg`);
  const png = join(dir, `${picture.name}.png`);
  const bytes = renderPng(picture.svg);
  await writeFileAtomic(svg, picture.svg);
  await writeFileAtomic(png, bytes);
  return { name: picture.name, svg, png, width: picture.width, height: picture.height };
}
