/**
 * The charts of the status page in a real headless Chromium, against a real agent whose history spans
 * a few hours (5-minute collections on a manual clock, so the hourly rollups exist): a chart per metric
 * with history, grouped as the dashboard groups them; the window links switch to 24 h and 7 d, which read
 * the 1-minute and 1-hour rollups; a firing alert is marked on its metric's chart; a phone shows it all
 * without sideways scrolling; and the browser makes no request beyond the agent on 127.0.0.1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfigText } from '../../src/agent/load-config.js';
import { describeService } from '../services/availability.js';
import { advanceAndCollect, fixtureAgent, fixtureConfigText } from '../unit/helpers/fixture-agent.js';
import type { FixtureAgent } from '../unit/helpers/fixture-agent.js';
import { chromiumAvailable, launchChromium } from './chromium.js';

describeService(
  'Chromium',
  chromiumAvailable(),
  () => {
    let browser: Browser;
    let closeBrowser: (() => Promise<void>) | undefined;
    let fx: FixtureAgent;
    let dir: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-status-charts-'));
      const text = fixtureConfigText(
        'linux-vm',
        `  alerting:
    state_file: ${JSON.stringify(path.join(dir, 'alert_state.json'))}
    notifications: {store_path: ${JSON.stringify(path.join(dir, 'notifications.db'))}}
    rules:
      - name: cpus_present
        metric: cpu_count
        condition: '>'
        threshold: 0
        severity: info
        message: '{{ $value }} CPUs'
trend_analysis:
  enabled: true
  storage:
    path: ${JSON.stringify(path.join(dir, 'metrics_history'))}
  anomaly_detection:
    enabled: true
    metrics: [memory_percent]
`,
      ).replace('collection_interval: 15s', 'collection_interval: 5m');
      fx = fixtureAgent('linux-vm', { config: parseConfigText(text, 'status-charts.yaml', {}) });
      await fx.agent.start();
      // Three hours of history: the completed hours are rolled up by the store's maintenance.
      for (let i = 0; i < 36; i++) await advanceAndCollect(fx, 300_000);
      ({ browser, close: closeBrowser } = await launchChromium());
    });

    afterAll(async () => {
      await closeBrowser?.();
      await fx?.agent.stop();
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('should chart every metric with history by group, switch windows to the rollups, mark the alert, on a phone, loading nothing else', async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const base = fx.agent.url!;
      expect(new URL(base).hostname).toBe('127.0.0.1');
      expect((await page.goto(`${base}/`))?.status()).toBe(200);

      const groups = await page.locator('section.chart-group > h3').allTextContents();
      expect(groups).toEqual(expect.arrayContaining(['System Resources', 'Agent Health']));
      // The system group's order follows the dashboard's: CPU first.
      const system = page.locator('#group-system-resources .chart');
      expect(await system.first().getAttribute('data-metric')).toBe('cpu_percent');
      const metrics = await page.evaluate<(string | null)[]>(
        "[...document.querySelectorAll('.chart')].map((e) => e.getAttribute('data-metric'))",
      );
      expect(metrics).toEqual(
        expect.arrayContaining([
          'cpu_percent',
          'memory_percent',
          'network_bytes_recv',
          'monitor_collections',
        ]),
      );
      expect(await page.locator('.chart[data-metric="cpu_percent"] svg polyline').count()).toBeGreaterThan(0);
      // Counters are drawn as rates.
      expect(await page.locator('.chart[data-metric="monitor_collections"] h4').textContent()).toBe(
        'monitor_collections (per second)',
      );
      expect(await page.locator('.chart').first().getAttribute('data-resolution')).toBe('raw');
      // The firing alert on cpu_count is marked on its chart, and only there.
      expect(await page.locator('.chart[data-metric="cpu_count"] line.marker-alert.firing').count()).toBe(1);
      expect(await page.locator('line.marker-alert').count()).toBe(1);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);

      for (const [label, window, resolution] of [
        ['24 h', '24h', '1m'],
        ['7 d', '7d', '1h'],
        ['1 h', '1h', 'raw'],
      ] as const) {
        await Promise.all([
          page.waitForURL(`**/?window=${window}#charts`),
          page.locator('#chart-windows a', { hasText: label }).click(),
        ]);
        expect(await page.locator('#chart-windows a[aria-current]').textContent()).toBe(label);
        const tiers = await page.evaluate<(string | null)[]>(
          "[...new Set([...document.querySelectorAll('.chart')].map((e) => e.getAttribute('data-resolution')))]",
        );
        expect(tiers).toEqual([resolution]);
        expect(await page.locator('.chart[data-metric="cpu_percent"] svg polyline').count()).toBeGreaterThan(
          0,
        );
        const wide = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        expect(wide).toBeLessThanOrEqual(0);
      }
      expect(requests.length).toBe(4);
      for (const url of requests) expect(new URL(url).origin).toBe(new URL(base).origin);
      await context.close();
    });

    it('should bound what a chart holds whatever the window', async () => {
      const res = await fetch(`${fx.agent.url!}/?window=7d`);
      expect(res.status).toBe(200);
      const html = await res.text();
      for (const [, points] of html.matchAll(/points="([^"]*)"/g))
        expect(points!.split(' ').length).toBeLessThanOrEqual(120);
      // An unknown window is the default hour.
      const other = await (await fetch(`${fx.agent.url!}/?window=1y`)).text();
      expect(other).toContain('aria-current="page">1 h</a>');
    });
  },
  'status page charts in headless Chromium',
);
