/**
 * Alert message and annotation templates: the part of Prometheus' Go templates that alert rules use,
 * `{{ $labels.<name> }}`, `{{ $value }}` and `{{ $value | printf "%.2f" }}`, so that a rule exported to a
 * Prometheus rule file expands to the same text there. A missing label expands to the empty string, and a
 * value prints as Go prints a float64 (`1.234567e+06`).
 */
import { AgentError, oneLine } from '../lib/errors.js';

export type TemplatePart =
  { kind: 'text'; text: string } | { kind: 'label'; name: string } | { kind: 'value'; fixed?: number };

export interface CompiledTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

const LABEL_RE = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/;
const VALUE_RE = /^\$value(?:\s*\|\s*printf\s+"%\.(\d)f")?$/;

/**
 * The text of an action between `{{` and `}}`, without the trim markers (`{{-`, `-}}`) and the spaces around
 * it. Actions are found with indexOf, in time linear in the template's length (a regular expression with
 * `\s*(.*?)\s*` between the braces took cubic time on a `{{` followed by thousands of spaces).
 */
function actionText(inner: string): string {
  let s = inner.startsWith('-') ? inner.slice(1) : inner;
  if (s.endsWith('-')) s = s.slice(0, -1);
  return s.trim();
}

/** Parses a template; throws an AgentError (E_RULE_INVALID) naming the first action it does not support. */
export function compileTemplate(source: string): CompiledTemplate {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (;;) {
    const open = source.indexOf('{{', last);
    if (open < 0) break;
    const close = source.indexOf('}}', open + 2);
    if (close < 0) break;
    if (open > last) parts.push({ kind: 'text', text: source.slice(last, open) });
    last = close + 2;
    const action = actionText(source.slice(open + 2, close));
    const label = LABEL_RE.exec(action);
    if (label !== null) {
      parts.push({ kind: 'label', name: label[1]! });
      continue;
    }
    const value = VALUE_RE.exec(action);
    if (value !== null) {
      parts.push(value[1] === undefined ? { kind: 'value' } : { kind: 'value', fixed: Number(value[1]) });
      continue;
    }
    // Line breaks are shown escaped: the error is one line.
    const shown = oneLine(action);
    throw new AgentError(
      'E_RULE_INVALID',
      `unsupported template action {{ ${shown} }}: use {{ $labels.<name> }}, {{ $value }} or {{ $value | printf "%.2f" }}`,
    );
  }
  if (last < source.length) parts.push({ kind: 'text', text: source.slice(last) });
  if (parts.some((p) => p.kind === 'text' && p.text.includes('{{')))
    throw new AgentError('E_RULE_INVALID', 'unclosed template action "{{"');
  return { source, parts };
}

export function expandTemplate(
  t: CompiledTemplate,
  labels: Readonly<Record<string, string>>,
  value: number,
): string {
  const only = t.parts.length === 1 ? t.parts[0] : undefined;
  if (only?.kind === 'text') return only.text;
  let out = '';
  for (const p of t.parts) {
    if (p.kind === 'text') out += p.text;
    // Own labels only: `constructor` or `__proto__` is a missing label, not the object's prototype member.
    else if (p.kind === 'label') out += Object.hasOwn(labels, p.name) ? labels[p.name]! : '';
    else out += p.fixed === undefined ? formatGoFloat(value) : formatFixed(value, p.fixed);
  }
  return out;
}

/** Go's `%v` (strconv 'g', shortest) for a float64. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  // Shortest digits; the exponent form below 1e-4 and from 1e6 on, as strconv.FormatFloat(v, 'g', -1, 64).
  if (exp < -4 || exp >= 6) return `${mantissa}e${goExponent(exp)}`;
  return String(v);
}

/** Go's `%e` shortest form (strconv 'e', -1): `1.5e+00`, as Prometheus' API prints alert values. */
export function formatGoExp(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  return `${mantissa}e${goExponent(Number(expText))}`;
}

function goExponent(exp: number): string {
  const sign = exp < 0 ? '-' : '+';
  const abs = Math.abs(exp);
  return `${sign}${abs < 10 ? '0' : ''}${abs}`;
}

function formatFixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return v.toFixed(digits);
}
