/**
 * Ping answer times over time, one line per peer and channel (uPlot on a canvas). Only this page
 * imports uPlot, so it is loaded with the page, not in the console's first load. The canvas is
 * hidden from assistive technology: the page gives the same facts as a sentence and a table.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** [seconds since the epoch, answer time in seconds] */
  points: readonly (readonly [number, number])[];
}

/** Colours with AA contrast on white; the legend names each line, so colour is never the only cue. */
const COLOURS = ['#0b57d0', '#b3261e', '#1b6e2d', '#8a4b00', '#6b3fa0', '#00677f'];
const DASHES: (number[] | undefined)[] = [undefined, [8, 4], [2, 3], [12, 3, 2, 3]];

/** `from` and `to` (seconds since the epoch): the period shown, whatever the points. */
export default function PingChart({ series, yLabel, from, to }: { series: readonly ChartSeries[]; yLabel: string; from: number; to: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    // uPlot's aligned data: one x array (the union of every series' times), a y array per series (null where it has no point).
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const ys = series.map((s) => {
      const y: (number | null)[] = xs.map(() => null);
      for (const [x, v] of s.points) y[index.get(x)!] = v;
      return y;
    });
    const width = Math.max(320, Math.min(el.clientWidth || 800, 1000));
    const plot = new uPlot({
      width, height: 260,
      scales: { x: { time: true, range: (): [number, number] => [from, to] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { label: yLabel }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true,
        dash: DASHES[i % DASHES.length], points: { show: true, size: 6 },
      }))],
    }, [xs, ...ys], el);
    return () => plot.destroy();
  }, [series, yLabel, from, to]);
  return <div ref={box} className="ping-chart" aria-hidden="true" />;
}
