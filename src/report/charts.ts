// Vega-Lite specs of the report's charts, rendered to SVG in Node by vega's headless View
// (renderer 'none' + toSVG: no DOM, no canvas, no browser). Every chart of a group gets the same
// x domain and, per chart kind, the same y domain, so kernels side by side compare at a glance.
//
// Why Vega-Lite: a declarative grammar (a chart is a JSON spec, reviewable like data), a pure-JS
// SVG renderer that runs headless in Node 20 without jsdom or node-canvas, accessible output
// (every mark carries an aria-label with its values, which the browser test reads), and a
// maintained project (UW IDL / Vega org, releases every few months).

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { LANE_MARKS, TRAFFIC_SERIES } from './classify.js';
import type { QueueName, SectionSeries } from './series.js';

export const CHART_WIDTH = 460;
/** Room for the y axis whatever its labels, so every plot of a column starts at the same x. */
const Y_AXIS_EXTENT = 100;
const X_TITLE = 'seconds since start';

/** Shared scales of one group of sections. */
export interface GroupScales {
  spanSeconds: number;
  trafficMax: number;
  dropsMax: number;
  synQueueMax: number;
  acceptQueueMax: number;
  establishedMax: number;
}

export type ChartKind = 'traffic' | 'drops' | 'accept-queue' | 'syn-queue' | 'established' | 'lanes';

export interface Chart {
  kind: ChartKind;
  title: string;
  svg: string;
}

function xAxis(scales: GroupScales, field = 't') {
  return { field, type: 'quantitative' as const, title: X_TITLE, scale: { domain: [0, Math.max(scales.spanSeconds, 0.001)], nice: false, zero: true } };
}

function yScale(max: number) {
  return { domain: [0, Math.max(1, max)], nice: true };
}

function base(title: string, height: number, values: object[]) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 13 },
    width: CHART_WIDTH,
    height,
    data: { values },
    config: { font: 'sans-serif', legend: { orient: 'right', labelLimit: 220 }, axisY: { minExtent: Y_AXIS_EXTENT, maxExtent: Y_AXIS_EXTENT }, view: { stroke: '#ddd' } },
  };
}

function trafficSpec(series: SectionSeries, scales: GroupScales): TopLevelSpec {
  const per = `per ${series.bucketSeconds} s`;
  return {
    ...base(`Packets (${per})`, 130, series.traffic),
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: xAxis(scales),
      y: { field: 'n', type: 'quantitative', title: per, scale: yScale(scales.trafficMax) },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: [...TRAFFIC_SERIES], range: ['#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'] } },
      detail: { field: 'part', type: 'nominal' },
    },
  } as TopLevelSpec;
}

function dropsSpec(series: SectionSeries, scales: GroupScales): TopLevelSpec {
  const values = series.drops.map((d) => ({ ...d, end: Math.round((d.t + series.bucketSeconds) * 1000) / 1000 }));
  return {
    ...base(`Drops by reason (per ${series.bucketSeconds} s, stacked)`, 110, values),
    mark: { type: 'bar' },
    encoding: {
      x: xAxis(scales),
      x2: { field: 'end', title: 'until' },
      y: { field: 'n', type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'drops', scale: yScale(scales.dropsMax) },
      color: { field: 'reason', type: 'nominal', title: null, scale: { scheme: 'category10' } },
    },
  } as TopLevelSpec;
}

function queueSpec(series: SectionSeries, scales: GroupScales, queue: 'SYN queue' | 'accept queue'): TopLevelSpec {
  const max = queue === 'SYN queue' ? scales.synQueueMax : scales.acceptQueueMax;
  const y = { type: 'quantitative' as const, title: 'length', axis: { title: 'length' }, scale: yScale(max) };
  return {
    ...base(`${queue === 'SYN queue' ? 'SYN queue' : 'Accept queue'} (peak per ${series.bucketSeconds} s) and its limit`, 90, []),
    layer: [
      {
        data: { values: series.queues.filter((q) => q.queue === queue) },
        mark: { type: 'line', interpolate: 'step-after', color: queue === 'SYN queue' ? '#17becf' : '#d62728', point: false },
        encoding: { x: xAxis(scales), y: { ...y, field: 'length' }, detail: { field: 'part', type: 'nominal' } },
      },
      // A dot where the queue stood at its limit: where SYNs or third ACKs start to be dropped.
      {
        data: { values: atLimit(series, queue) },
        mark: { type: 'point', filled: true, size: 22, color: '#b71c1c' },
        encoding: { x: xAxis(scales), y: { ...y, field: 'length' }, tooltip: { field: 'state', title: 'state' } },
      },
      {
        data: { values: series.limits.filter((l) => l.queue === queue) },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { x: xAxis(scales, 'from'), x2: { field: 'to' }, y: { ...y, field: 'limit', title: 'limit' } },
      },
    ],
  } as TopLevelSpec;
}

function atLimit(series: SectionSeries, queue: QueueName): Array<{ t: number; length: number; state: string }> {
  return series.queues
    .filter((q) => q.queue === queue && series.limits.some((l) => l.queue === queue && q.t >= l.from && q.t <= l.to && q.length >= l.limit && l.limit > 0))
    .map((q) => ({ t: q.t, length: q.length, state: 'full' }));
}

function establishedSpec(series: SectionSeries, scales: GroupScales): TopLevelSpec {
  return {
    ...base('Established connections', 70, series.established),
    mark: { type: 'line', interpolate: 'step-after', color: '#2ca02c' },
    encoding: {
      x: xAxis(scales),
      y: { field: 'n', type: 'quantitative', title: 'connections', scale: yScale(scales.establishedMax) },
      detail: { field: 'part', type: 'nominal' },
    },
  } as TopLevelSpec;
}

function lanesSpec(series: SectionSeries, scales: GroupScales): TopLevelSpec {
  const lanes = series.lanes ?? [];
  const order = [...new Set(lanes.map((l) => l.client))];
  return {
    ...base('Per client (address:port)', Math.max(40, order.length * 26), lanes),
    mark: { type: 'point', filled: true, size: 40, opacity: 0.85 },
    encoding: {
      x: xAxis(scales),
      y: { field: 'client', type: 'nominal', title: null, sort: order },
      yOffset: { field: 'mark', type: 'nominal', scale: { domain: [...LANE_MARKS] } },
      color: { field: 'mark', type: 'nominal', title: null, scale: { domain: [...LANE_MARKS], range: ['#1f77b4', '#2ca02c', '#17a768', '#d62728', '#e377c2'] } },
      shape: { field: 'mark', type: 'nominal', title: null, scale: { domain: [...LANE_MARKS], range: ['triangle-right', 'triangle-left', 'circle', 'cross', 'square'] } },
    },
  } as TopLevelSpec;
}

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Every chart of one section, in reading order: cause (traffic), effect (drops), state (queues). */
export async function sectionCharts(series: SectionSeries, scales: GroupScales): Promise<Chart[]> {
  const specs: Array<[ChartKind, string, TopLevelSpec]> = [
    ['traffic', 'packets', trafficSpec(series, scales)],
    ['drops', 'drops by reason', dropsSpec(series, scales)],
    ['accept-queue', 'accept queue', queueSpec(series, scales, 'accept queue')],
    ['syn-queue', 'SYN queue', queueSpec(series, scales, 'SYN queue')],
    ['established', 'established', establishedSpec(series, scales)],
  ];
  if (series.lanes !== null && series.lanes.length > 0) specs.push(['lanes', 'per client', lanesSpec(series, scales)]);
  const charts: Chart[] = [];
  for (const [kind, title, spec] of specs) charts.push({ kind, title, svg: await render(spec) });
  return charts;
}

/** The y maxima over every section of a group (each chart kind on one scale). */
export function groupScales(all: readonly SectionSeries[]): GroupScales {
  const max = (values: number[]): number => values.reduce((m, v) => Math.max(m, v), 0);
  const dropStacks = all.flatMap((s) => {
    const perBucket = new Map<number, number>();
    for (const d of s.drops) perBucket.set(d.t, (perBucket.get(d.t) ?? 0) + d.n);
    return [...perBucket.values()];
  });
  const queue = (name: string) => max(all.flatMap((s) => [...s.queues.filter((q) => q.queue === name).map((q) => q.length), ...s.limits.filter((l) => l.queue === name).map((l) => l.limit)]));
  return {
    spanSeconds: max(all.map((s) => s.spanSeconds)),
    trafficMax: max(all.flatMap((s) => s.traffic.map((p) => p.n))),
    dropsMax: max(dropStacks),
    synQueueMax: queue('SYN queue'),
    acceptQueueMax: queue('accept queue'),
    establishedMax: max(all.flatMap((s) => s.established.map((p) => p.n))),
  };
}
