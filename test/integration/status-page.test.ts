/**
 * The status page at `/` in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * its sections render, it fits a phone screen without sideways scrolling, it loads nothing but itself,
 * and it looks like the reviewed screenshot (test/golden/status-page-phone.png; UPDATE_GOLDEN=1 rewrites
 * it). Everything that depends on the clock or on timings is masked before the screenshot.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeService } from '../services/availability.js';
import { advanceAndCollect, fixtureAgent } from '../unit/helpers/fixture-agent.js';
import type { FixtureAgent } from '../unit/helpers/fixture-agent.js';
import { chromiumAvailable, launchChromium } from './chromium.js';

const GOLDEN = fileURLToPath(new URL('../golden/status-page-phone.png', import.meta.url));
/** The checkout's root, without a trailing separator. */
const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** Share of pixels allowed to differ (anti-aliasing, font hinting). */
const PIXEL_TOLERANCE = 0.01;

/** Fraction of pixels whose channels differ by more than 48 between two PNGs of the same size, in the browser. */
async function pixelDifference(page: Page, a: Buffer, b: Buffer): Promise<number> {
  // Runs in a page without a CSP (a string, as this file is compiled without the DOM types).
  const script = `(async () => {
    const load = async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return ctx.getImageData(0, 0, img.width, img.height);
    };
    const p = await load(${JSON.stringify(a.toString('base64'))});
    const q = await load(${JSON.stringify(b.toString('base64'))});
    if (p.width !== q.width || p.height !== q.height) return 1;
    let diff = 0;
    for (let i = 0; i < p.data.length; i += 4) {
      for (let k = 0; k < 3; k++) {
        if (Math.abs(p.data[i + k] - q.data[i + k]) > 48) { diff++; break; }
      }
    }
    return diff / (p.width * p.height);
  })()`;
  return page.evaluate<number>(script);
}

describeService(
  'Chromium',
  chromiumAvailable(),
  () => {
    let browser: Browser;
    let closeBrowser: (() => Promise<void>) | undefined;
    let fx: FixtureAgent;
    let dir: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-monitor-status-page-'));
      fx = fixtureAgent('linux-vm', {
        extra: `
trend_analysis:
  enabled: true
  storage:
    path: ${JSON.stringify(path.join(dir, 'metrics_history'))}
  anomaly_detection:
    enabled: true
    min_samples: 3
    window_samples: 5
    metrics: [memory_percent, disk_usage_percent]
  forecasts:
    - metric: disk_usage_percent
      threshold: 100
  sparkline_metrics: [memory_percent, disk_usage_percent]
`,
      });
      await fx.agent.start();
      for (let i = 0; i < 6; i++) await advanceAndCollect(fx, 15_000);
      ({ browser, close: closeBrowser } = await launchChromium(['--font-render-hinting=none']));
    });

    afterAll(async () => {
      await closeBrowser?.();
      await fx?.agent.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('should render alerts, anomalies, forecasts and sparklines, fit a phone and load nothing else', async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const res = await page.goto(`${fx.agent.url!}/`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('h2').allTextContents()).toEqual(
        expect.arrayContaining([
          'Active alerts',
          'Anomalies',
          'Forecasts',
          'Last hour',
          'Endpoints',
          'Probes',
        ]),
      );
      expect(await page.locator('#alerts-none').textContent()).toBe('no active alerts');
      expect(await page.locator('#anomaly-summary').textContent()).toMatch(
        /^0 of 2 monitored series anomalous$/,
      );
      expect(await page.locator('#forecasts td.series').first().textContent()).toContain(
        'disk_usage_percent',
      );
      expect(await page.locator('#sparklines svg polyline').count()).toBe(2);
      // The sparkline is drawn: its polyline spans the width of its card.
      const box = await page.locator('#sparklines svg').first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(30);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      expect(requests).toEqual([`${fx.agent.url!}/`]);
      await context.close();
    });

    it('should look like the reviewed screenshot, dynamic parts masked', async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      await page.goto(`${fx.agent.url!}/`);
      await page.addStyleTag({ content: '* { font-family: "DejaVu Sans", sans-serif !important; }' });
      // Probe messages name fixture paths under the checkout; a longer checkout path wraps them onto more
      // lines and changes the page's height, which a mask cannot hide, so the text is normalized first.
      await page.evaluate(`(() => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          n.textContent = n.textContent.split(${JSON.stringify(REPO_ROOT)}).join('<repo>');
        }
      })()`);
      // The layout (and so the screenshot's height) is only final once the font swap has been applied.
      await page.evaluate('document.fonts.ready.then(() => undefined)');
      const shot = await page.screenshot({
        fullPage: true,
        animations: 'disabled',
        mask: [
          page.locator('.dyn'),
          // The charts draw self-metrics such as collection durations, which vary from run to run.
          page.locator('.chart svg'),
          page.locator('p', { hasText: 'Last collection' }),
          page.locator('table').last(),
        ],
        maskColor: '#888888',
      });
      if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(GOLDEN)) {
        expect(process.env.CI, 'the golden screenshot is missing; run with UPDATE_GOLDEN=1 locally').not.toBe(
          'true',
        );
        fs.writeFileSync(GOLDEN, shot);
      }
      // Compared in a blank page: the status page's Content-Security-Policy refuses data: images.
      const blank = await context.newPage();
      const diff = await pixelDifference(blank, shot, fs.readFileSync(GOLDEN));
      console.log(
        `status page screenshot: ${(diff * 100).toFixed(3)} % of pixels differ from the golden image`,
      );
      expect(diff).toBeLessThanOrEqual(PIXEL_TOLERANCE);
      await context.close();
    });
  },
  'status page in headless Chromium',
);
