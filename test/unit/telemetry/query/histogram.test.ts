/** Percentiles estimated from merged explicit-bucket histograms, and the mesh names the queries rely on. */
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../../../src/mesh/http/telemetry/otlp-metrics.js';
import { MESH_SCOPE } from '../../../../src/mesh/http/telemetry/otlp-spans.js';
import { addBuckets, addValue, emptyHistogram, histogramQuantile } from '../../../../src/telemetry/query/histogram.js';
import { MESH_METRIC_NAMES, MESH_SCOPE_NAME } from '../../../../src/telemetry/query/mesh-traffic.js';

describe('histogramQuantile', () => {
  it('interpolates linearly inside the bucket that holds the rank, from 0 for the first bucket (as Prometheus)', () => {
    const h = emptyHistogram();
    addBuckets(h, [10, 20, 40], [10, 0, 10, 0], null, null);
    expect(histogramQuantile(h, 0)).toBe(0);
    expect(histogramQuantile(h, 0.25)).toBe(5);
    expect(histogramQuantile(h, 0.5)).toBe(10);
    expect(histogramQuantile(h, 0.75)).toBe(30);
    expect(histogramQuantile(h, 1)).toBe(40);
  });

  it('narrows a bucket to the min and max, and ends the overflow bucket at the max (else at the last bound)', () => {
    const h = emptyHistogram();
    addBuckets(h, [10, 20], [4, 0, 4], 6, 30);
    expect(histogramQuantile(h, 0.25)).toBe(8); // in [6, 10]
    expect(histogramQuantile(h, 1)).toBe(30); // in (20, 30]
    const open = emptyHistogram();
    addBuckets(open, [10, 20], [0, 0, 4], null, null);
    expect(histogramQuantile(open, 0.5)).toBe(20);
    const one = emptyHistogram();
    addBuckets(one, [10, 20], [0, 1, 0], 12.5, 12.5);
    expect([0.5, 0.95, 0.99].map((q) => histogramQuantile(one, q))).toEqual([12.5, 12.5, 12.5]);
  });

  it('adds points with the same bounds bucket by bucket, and points with other bounds to the bucket that holds their upper bound', () => {
    const h = emptyHistogram();
    addBuckets(h, [10, 20], [1, 2, 3], 5, 25);
    addBuckets(h, [10, 20], [1, 0, 1], 1, 50);
    addBuckets(h, [5, 15, 100], [1, 1, 1, 1], null, null);
    expect(h).toEqual({ bounds: [10, 20], counts: [3, 3, 6], min: 1, max: 50 });
    addValue(h, 0.5);
    addValue(h, 15);
    expect(h).toEqual({ bounds: [10, 20], counts: [4, 4, 6], min: 0.5, max: 50 });
  });

  it('is NaN for an empty histogram', () => {
    expect(histogramQuantile(emptyHistogram(), 0.5)).toBeNaN();
  });
});

it('reads the mesh\'s metrics by the names and scope the proxy sends them under', () => {
  expect(MESH_METRIC_NAMES).toEqual(METRIC_NAMES);
  expect(MESH_SCOPE_NAME).toBe(MESH_SCOPE.name);
});
