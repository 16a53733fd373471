/**
 * Headless Chromium for the status page tests: Debian's `chromium` (CHROMIUM_PATH overrides), driven by
 * playwright-core, started without any of its own network traffic. Playwright's `launch` gives every
 * browser a fresh temporary profile (it refuses a `--user-data-dir` argument) and removes it on close.
 */
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { Availability } from '../services/availability.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): Availability {
  try {
    execFileSync(CHROMIUM, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return { ok: true };
  } catch (err) {
    return {
      ok: false,
      reason: `${CHROMIUM} --version failed (${(err as Error).message}); apt-get install chromium`,
    };
  }
}

/** A headless Chromium with a fresh profile. */
export async function launchChromium(
  extraArgs: string[] = [],
): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
