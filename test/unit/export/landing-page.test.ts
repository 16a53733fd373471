import { describe, expect, it } from 'vitest';
import { escapeHtml, renderLandingPage } from '../../../src/export/landing-page.js';
import type { LandingPageInput } from '../../../src/export/landing-page.js';

const noop = (): void => {};

function input(
  summary: Partial<LandingPageInput['summary']> = {},
  over: Partial<LandingPageInput> = {},
): LandingPageInput {
  return {
    version: '1.2.3',
    routes: [
      { path: '/metrics', handler: noop, description: 'Prometheus metrics' },
      { path: '/debug/*', handler: noop, description: 'Debug <pages> & "more"' },
    ],
    summary: {
      collectedAtMs: undefined,
      collectionIntervalMs: 30_000,
      probes: [],
      scrapes: 0,
      ...summary,
    },
    ...over,
  };
}

describe('escapeHtml', () => {
  it('should escape the five HTML-significant characters and nothing else', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&#60;a href=&#34;x&#34;&#62;Tom &#38; Jerry&#39;s&#60;/a&#62;',
    );
    expect(escapeHtml('plain text / ü €')).toBe('plain text / ü €');
  });
});

describe('renderLandingPage', () => {
  it('should list the routes with escaped descriptions, linking a prefix route to its directory', () => {
    const html = renderLandingPage(input());
    expect(html).toContain('<tr><td><a href="/metrics">/metrics</a></td><td>Prometheus metrics</td></tr>');
    expect(html).toContain(
      '<tr><td><a href="/debug/">/debug/*</a></td><td>Debug &#60;pages&#62; &#38; &#34;more&#34;</td></tr>',
    );
    expect(html).not.toContain('<pages>');
  });

  it('should escape route paths inside the link and its text', () => {
    const html = renderLandingPage(
      input({}, { routes: [{ path: '/x"><script>alert(1)</script>', handler: noop, description: 'd' }] }),
    );
    expect(html).not.toContain('<script>');
    expect(html).toContain('href="/x&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
  });

  it('should show each probe state, its duration and an escaped reason', () => {
    const html = renderLandingPage(
      input({
        probes: [
          { name: 'cpu', state: 'ok', durationMs: 1.234 },
          { name: 'neo4j', state: 'unavailable', durationMs: 0.5, reason: 'ECONNREFUSED <bolt://db:7687>' },
          { name: 'disk<1>', state: 'failed', durationMs: 12, reason: `can't read "/proc" & co` },
        ],
      }),
    );
    expect(html).toContain('<tr><td>cpu</td><td class="ok">ok</td><td>1.23 ms</td><td></td></tr>');
    expect(html).toContain(
      '<tr><td>neo4j</td><td class="bad">unavailable</td><td>0.50 ms</td><td>ECONNREFUSED &#60;bolt://db:7687&#62;</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>disk&#60;1&#62;</td><td class="bad">failed</td><td>12.00 ms</td><td>can&#39;t read &#34;/proc&#34; &#38; co</td></tr>',
    );
    expect(html).not.toContain('<bolt:');
  });

  it('should escape the version', () => {
    const html = renderLandingPage(input({}, { version: '1.0.0-<b>' }));
    expect(html).toContain('<h1>perf-monitor-agent 1.0.0-&#60;b&#62;</h1>');
  });

  it('should say "not yet" before the first collection and the ISO time after', () => {
    expect(renderLandingPage(input())).toContain(
      '<p>Last collection: not yet; every 30 s; 0 scrapes served.</p>',
    );
    expect(renderLandingPage(input({ collectedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5), scrapes: 7 }))).toContain(
      '<p>Last collection: 2026-01-02T03:04:05.000Z; every 30 s; 7 scrapes served.</p>',
    );
  });

  it('should say that OTLP export is off when there is no OTLP summary', () => {
    const html = renderLandingPage(input());
    expect(html).toContain('<p>OTLP export: off</p>');
    expect(html).not.toContain('OTLP export to');
  });

  it('should show the OTLP endpoint and counts, with the escaped last error when there is one', () => {
    const ok = renderLandingPage(
      input({ otlp: { endpoint: 'http://c:4318/v1/metrics', exports: 5, failures: 0 } }),
    );
    expect(ok).toContain('<p>OTLP export to http://c:4318/v1/metrics: 5 exports, 0 failed</p>');
    expect(ok).not.toContain('OTLP export: off');
    expect(ok).not.toContain('last error');

    const failing = renderLandingPage(
      input({
        otlp: {
          endpoint: 'http://c:4318/v1/metrics?a=1&b=2',
          exports: 9,
          failures: 2,
          lastError: '<html>Bad Gateway</html>',
        },
      }),
    );
    expect(failing).toContain(
      '<p>OTLP export to http://c:4318/v1/metrics?a=1&#38;b=2: 9 exports, 2 failed (last error: &#60;html&#62;Bad Gateway&#60;/html&#62;)</p>',
    );
  });

  it('should be a complete document with no external assets', () => {
    const html = renderLandingPage(input());
    expect(html.startsWith('<!doctype html>\n')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).not.toMatch(/<(script|link|img)\b/);
  });
});
