/**
 * The catalog as the metric table of docs/metrics.md. That page holds the rendered table between markers;
 * a test fails when it is stale (UPDATE_GOLDEN=1 rewrites it).
 */
import { CATALOG, instrumentName } from './catalog.js';
import type { MetricGroup } from './catalog.js';

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
