import { describe, expect, it } from 'vitest';
import { renderCharts } from '../../../src/export/status-charts.js';
import type { ChartsInput } from '../../../src/export/status-charts.js';

const FROM = Date.UTC(2026, 10, 1, 12);
const TO = FROM + 3_600_000;

function input(extra: Partial<ChartsInput> = {}): ChartsInput {
  return {
    window: '1h',
    fromMs: FROM,
    toMs: TO,
    groups: [
      { title: 'System Resources', metrics: ['cpu_percent', 'network_bytes_recv'] },
      { title: 'Cache Performance', metrics: ['cache_size'] },
    ],
    lines: [
      {
        metric: 'cpu_percent',
        labels: {},
        resolution: 'raw',
        rate: false,
        t: [FROM, TO],
        v: [10, 20],
        omitted: 0,
      },
      {
        metric: 'network_bytes_recv',
        labels: { interface: 'eth0' },
        resolution: 'raw',
        rate: true,
        t: [FROM, TO],
        v: [1, 2],
        omitted: 0,
      },
      {
        metric: 'network_bytes_recv',
        labels: { interface: 'lo' },
        resolution: 'raw',
        rate: true,
        t: [FROM, TO],
        v: [3, 3],
        omitted: 2,
      },
    ],
    markers: [],
    ...extra,
  };
}

describe('status page charts', () => {
  it('should draw groups with history only, counters as rates, and mark the current window', () => {
    const html = renderCharts(input());
    expect(html).toContain(
      '<section class="chart-group" id="group-system-resources"><h3>System Resources</h3>',
    );
    expect(html).not.toContain('Cache Performance');
    expect(html).toContain('<h4>network_bytes_recv (per second)</h4>');
    expect(html).toContain('<h4>cpu_percent</h4>');
    expect(html).toContain('2 more series not drawn');
    expect(html).toContain('<a href="/?window=1h#charts" aria-current="page">1 h</a>');
    expect(html).toContain('<a href="/?window=7d#charts">7 d</a>');
    // cpu_percent from 10 to 20 spans the chart's height: (0, 77) to (300, 5).
    expect(html).toContain('points="0.0,77.0 300.0,5.0"');
    expect(html).not.toMatch(/https?:/);
  });

  it('should mark alerts and anomalies on the charts of their series only', () => {
    const html = renderCharts(
      input({
        markers: [
          {
            kind: 'alert',
            metric: 'cpu_percent',
            labels: { alertname: 'high_cpu' },
            timestampMs: FROM + 1_800_000,
            state: 'firing',
            text: 'high_cpu firing',
          },
          {
            kind: 'anomaly',
            metric: 'network_bytes_recv',
            labels: { interface: 'lo' },
            timestampMs: TO,
            text: 'spike <1>',
          },
          {
            kind: 'anomaly',
            metric: 'network_bytes_recv',
            labels: { interface: 'wlan0' },
            timestampMs: TO,
            text: 'elsewhere',
          },
        ],
      }),
    );
    expect(html).toContain('<line class="marker-alert firing" x1="150.0" x2="150.0"');
    expect(html.match(/class="marker-anomaly"/g)).toHaveLength(1);
    expect(html).toContain('<title>spike &#60;1&#62;</title>');
    expect(html).not.toContain('elsewhere');
    expect(html).toContain('data-metric="network_bytes_recv" data-resolution="raw" data-markers="1"');
  });

  it('should say when the window holds no history', () => {
    expect(renderCharts(input({ lines: [] }))).toContain('no history in this window yet');
  });
});
