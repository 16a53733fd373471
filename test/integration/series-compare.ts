/** Comparing what Prometheus stored from two scrape targets that should carry the same data. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { PromSample } from '../services/prometheus.js';

/** Labels that name where a sample was scraped (Prometheus' target labels), not what it measures. */
export const TARGET_LABELS = ['instance', 'job'] as const;

/**
 * Series the agent serves only on its own /metrics: monitor_scrapes counts its /metrics requests, which
 * a Collector never receives.
 */
export const SCRAPE_ONLY_SERIES = ['multi_agent_system_monitor_scrapes_total'];

/** `name{k="v",...}` for each sample, without target labels, sorted; a repeated series counts once. */
export function comparableSeries(samples: readonly PromSample[]): Set<string> {
  const out = new Set<string>();
  for (const s of samples) {
    const name = s.metric.__name__ ?? '';
    if (SCRAPE_ONLY_SERIES.includes(name)) continue;
    const labels = Object.entries(s.metric)
      .filter(([k]) => k !== '__name__' && !(TARGET_LABELS as readonly string[]).includes(k))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',');
    out.add(`${name}{${labels}}`);
  }
  return out;
}

/** The shipped config/prometheus/prometheus.yml, parsed. */
export const SHIPPED_PROMETHEUS_CONFIG = fileURLToPath(
  new URL('../../config/prometheus/prometheus.yml', import.meta.url),
);

interface ScrapeConfig {
  job_name: string;
  metric_relabel_configs?: unknown[];
  [key: string]: unknown;
}

/** One scrape job of the shipped prometheus.yml (throws if it is missing). */
export function shippedScrapeJob(jobName: string): ScrapeConfig {
  const config = parse(readFileSync(SHIPPED_PROMETHEUS_CONFIG, 'utf8')) as { scrape_configs: ScrapeConfig[] };
  const job = config.scrape_configs.find((j) => j.job_name === jobName);
  if (job === undefined) throw new Error(`${SHIPPED_PROMETHEUS_CONFIG}: no scrape job ${jobName}`);
  return job;
}
