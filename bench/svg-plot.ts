// A line chart as SVG text, written from the benchmark's numbers (no plotting library on this machine):
// one step line per series, linear axes with round ticks, a legend. Pure.

export interface Series {
  name: string;
  colour: string;
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten. */
export function ticks(low: number, high: number, target = 6): number[] {
  const span = high - low || Math.abs(high) || 1;
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const out: number[] = [];
  const last = Math.ceil(high / step - 1e-9) * step;
  for (let v = Math.floor(low / step + 1e-9) * step; v <= last + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Step lines (a best-so-far curve holds its value until the next point). */
export function stepChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 170, top: 40, bottom: 55 };
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const xTicks = ticks(0, Math.max(...xs));
  const yTicks = ticks(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = [xTicks[0], xTicks.at(-1)!];
  const [y0, y1] = [yTicks[0], yTicks.at(-1)!];
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0 || 1)) * (width - margin.left - margin.right);
  const py = (y: number) => height - margin.bottom - ((y - y0) / (y1 - y0 || 1)) * (height - margin.top - margin.bottom);
  const label = (v: number) => String(Number(v.toPrecision(4)));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escape(options.title)}</text>`,
    ...xTicks.map((t) => `<line x1="${px(t)}" y1="${margin.top}" x2="${px(t)}" y2="${height - margin.bottom}" stroke="#eee"/><text x="${px(t)}" y="${height - margin.bottom + 16}" text-anchor="middle">${label(t)}</text>`),
    ...yTicks.map((t) => `<line x1="${margin.left}" y1="${py(t)}" x2="${width - margin.right}" y2="${py(t)}" stroke="#eee"/><text x="${margin.left - 6}" y="${py(t) + 4}" text-anchor="end">${label(t)}</text>`),
    `<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" height="${height - margin.top - margin.bottom}" fill="none" stroke="#888"/>`,
    `<text x="${(margin.left + width - margin.right) / 2}" y="${height - 14}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text transform="translate(18 ${(margin.top + height - margin.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`,
  ];
  series.forEach((s, i) => {
    const path = s.points.map(([x, y], j) => (j === 0 ? `M${px(x)},${py(y)}` : `H${px(x)}V${py(y)}`)).join('');
    parts.push(`<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    const ly = margin.top + 10 + i * 20;
    parts.push(`<line x1="${width - margin.right + 12}" y1="${ly}" x2="${width - margin.right + 36}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/><text x="${width - margin.right + 42}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
