// The benchmark's SVG chart: round ticks that cover the data, one path per series, escaped text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stepChart, ticks } from '../../bench/svg-plot';

test('ticks are round steps (1, 2 or 5 x 10^k) covering the range', () => {
  assert.deepEqual(ticks(0, 72), [0, 20, 40, 60, 80]);
  assert.deepEqual(ticks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(ticks(81.7, 96.3), [80, 85, 90, 95, 100]);
  assert.deepEqual(ticks(0.5, 0.5), [0.5]);
});

test('a step chart draws each series as a step path with its legend', () => {
  const svg = stepChart([
    { name: 'grid', colour: '#555', points: [[9, 50], [18, 70], [27, 70]] },
    { name: 'a < b & c', colour: '#0a0', points: [[3, 40], [6, 80]] },
  ], { title: 'best', xLabel: 'epochs', yLabel: 'acc' });
  assert.match(svg, /^<svg [^>]*viewBox="0 0 720 420"/);
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.match(svg, /d="M[\d.]+,[\d.]+H[\d.]+V[\d.]+H[\d.]+V[\d.]+"/, 'steps: horizontal then vertical');
  assert.match(svg, /a &lt; b &amp; c/);
});
