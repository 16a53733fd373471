/**
 * The catalog as the metric table of docs/metrics.md. That page holds the rendered table between markers;
 * a test fails when it is stale (UPDATE_GOLDEN=1 rewrites it).
 */
import { CATALOG, instrumentName } from './catalog.js';
import type { MetricGroup } from './catalog.js';
import { SEMCONV_PACKAGE, semconvMapping } from './semconv.js';

export const TABLE_BEGIN = '<!-- metric-table:begin (generated from src/catalog/catalog.ts) -->';
export const TABLE_END = '<!-- metric-table:end -->';

const GROUP_TITLES: Record<MetricGroup, string> = {
  system: 'System',
  container: 'Container (cgroup v2)',
  application: 'Application (recorded through the API)',
  neo4j: 'Neo4j',
  self: 'The agent itself',
  runtime: 'Node.js runtime and process (of the process the agent runs in)',
};

export function renderMetricTable(prefix = 'multi_agent_system'): string {
  const lines: string[] = [TABLE_BEGIN];
  for (const group of Object.keys(GROUP_TITLES) as MetricGroup[]) {
    lines.push('', `**${GROUP_TITLES[group]}**`, '');
    lines.push('| config name | exported as | type | unit | labels | meaning |', '|---|---|---|---|---|---|');
    for (const e of CATALOG.filter((c) => c.group === group)) {
      const exported = instrumentName(prefix, e);
      const renamed = e.exportedName === e.name ? '' : ' (renamed)';
      const labels = e.labels.length === 0 ? '–' : e.labels.map((l) => `\`${l}\``).join(', ');
      lines.push(
        `| \`${e.name}\` | \`${exported}\`${renamed} | ${e.kind} | \`${e.unit}\` | ${labels} | ${e.description} |`,
      );
    }
  }
  lines.push('', TABLE_END);
  return lines.join('\n');
}

export const SEMCONV_BEGIN = '<!-- semconv-table:begin (generated from src/catalog/semconv.ts) -->';
export const SEMCONV_END = '<!-- semconv-table:end -->';

const SCALE_TEXT: Record<number, string> = {
  0.01: '÷ 100 (percent → ratio)',
  1e6: '× 10⁶ (MHz → Hz)',
  0.001: '÷ 1000 (ms → s)',
};

/** The OTLP names under `otlp.naming: semconv`, one row per catalog metric. */
export function renderSemconvTable(): string {
  const lines: string[] = [
    SEMCONV_BEGIN,
    '',
    `Names, units and attributes as in \`${SEMCONV_PACKAGE}\`.`,
    '',
  ];
  lines.push(
    '| config name | OTLP name (semconv) | convention | instrument | unit | attributes | value |',
    '|---|---|---|---|---|---|---|',
  );
  for (const e of CATALOG) {
    const m = semconvMapping(e.name);
    if (m === undefined) continue;
    const attributes = [
      ...e.labels.map((l) =>
        m.attributes[l] === undefined ? `\`${l}\`` : `\`${l}\` → \`${m.attributes[l]}\``,
      ),
      ...Object.entries(m.constant).map(([k, v]) => `\`${k}=${v}\``),
    ];
    const value = [m.scale === 1 ? '' : (SCALE_TEXT[m.scale] ?? `× ${m.scale}`), m.note ?? '']
      .filter((t) => t !== '')
      .join('; ');
    lines.push(
      `| \`${e.name}\` | \`${m.name}\` | ${m.convention ? 'yes' : 'ours'} | ${m.instrument} | \`${m.unit}\` | ${attributes.length === 0 ? '–' : attributes.join(', ')} | ${value === '' ? 'as is' : value} |`,
    );
  }
  lines.push('', SEMCONV_END);
  return lines.join('\n');
}
