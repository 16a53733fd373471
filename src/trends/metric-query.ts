/**
 * What a trend query from outside (`/api/v1/trends?metric=…`, `/api/v1/anomalies`, the `trends` command)
 * may name: a metric the configuration knows, in metric-name grammar, at most 200 characters; and label
 * matchers in label-name grammar. The PromQL selector sent to Prometheus is built here from those parts
 * only, label values escaped, so that no text from outside reaches the query language as syntax.
 */
import { AgentError } from '../lib/errors.js';
import { escapeLabelValue } from '../model/labels.js';

const MAX_METRIC_NAME_LENGTH = 200;

const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/**
 * Throws E_USAGE (an HTTP 400) unless `metric` is a metric name of at most 200 characters and, when
 * `known` is given, one of its names.
 */
export function checkMetricName(metric: string, known?: ReadonlySet<string>): void {
  if (metric.length > MAX_METRIC_NAME_LENGTH)
    throw new AgentError('E_USAGE', `metric name longer than ${MAX_METRIC_NAME_LENGTH} characters`);
  if (!METRIC_NAME.test(metric))
    throw new AgentError('E_USAGE', `bad metric name ${shown(metric)}: use letters, digits and _`);
  if (known !== undefined && !known.has(metric))
    throw new AgentError('E_USAGE', `unknown metric ${shown(metric)}`);
}

/** A PromQL string literal's content: escaped as a label value of the exposition, and `\r` too. */
function escapePromqlString(v: string): string {
  return escapeLabelValue(v).replace(/\r/g, '\\r');
}

/** `name{k="v",…}` from a metric name and equality matchers; throws E_USAGE for a name out of grammar. */
export function promqlSelector(name: string, labels: Readonly<Record<string, string>>): string {
  checkMetricName(name);
  const m = Object.entries(labels).map(([k, v]) => {
    if (!LABEL_NAME.test(k)) throw new AgentError('E_USAGE', `bad label name ${shown(k)}`);
    return `${k}="${escapePromqlString(v)}"`;
  });
  return `${name}{${m.join(',')}}`;
}

/** Parses `k=v,k2=v2` strictly; throws E_USAGE naming the bad entry. */
export function parseLabelMatchers(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return out;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq <= 0 || !LABEL_NAME.test(key))
      throw new AgentError(
        'E_USAGE',
        `bad label matcher ${JSON.stringify(part)}: use name=value[,name=value]`,
      );
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}
