/**
 * Label matchers as Alertmanager and PromQL write them: `name="value"`, `name!="value"`, `name=~"regex"`,
 * `name!~"regex"`. Regexes are anchored at both ends, as in Alertmanager. Values may be quoted or bare.
 */
import { AgentError } from '../lib/errors.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
}

const MATCHER_RE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses one matcher; throws E_USAGE naming the text when it is not one. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER_RE.exec(text);
  if (m === null) {
    throw new AgentError(
      'E_USAGE',
      `invalid matcher ${JSON.stringify(text)}: expected name=value, name!=value, name=~regex or name!~regex`,
    );
  }
  let value = m[3]!;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = JSON.parse(value) as string;
    } catch {
      throw new AgentError('E_USAGE', `invalid matcher ${JSON.stringify(text)}: bad quoted value`);
    }
  }
  const matcher: Matcher = { name: m[1]!, type: m[2] as MatchType, value };
  if (matcher.type === '=~' || matcher.type === '!~') compileMatcherRegex(matcher.value, text);
  return matcher;
}

/**
 * Parses a list: `{a="1",b=~"x|y"}` or `a=1, b=~x|y` (commas inside quotes are kept). An empty list is an error:
 * a silence must not match every alert by accident.
 */
export function parseMatchers(text: string): Matcher[] {
  let body = text.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && quoted) {
      current += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  const matchers = parts.filter((p) => p.trim() !== '').map(parseMatcher);
  if (matchers.length === 0) throw new AgentError('E_USAGE', 'at least one matcher is required');
  return matchers;
}

function compileMatcherRegex(source: string, text: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    throw new AgentError(
      'E_USAGE',
      `invalid matcher ${JSON.stringify(text)}: not a valid regular expression`,
    );
  }
}

/** A compiled matcher list: `matches(labels)` is true when every matcher holds (a missing label is ""). */
export class MatcherSet {
  private readonly _tests: ((labels: Readonly<Record<string, string>>) => boolean)[];

  constructor(readonly matchers: readonly Matcher[]) {
    this._tests = matchers.map((m) => {
      const get = (labels: Readonly<Record<string, string>>): string =>
        Object.hasOwn(labels, m.name) ? labels[m.name]! : '';
      switch (m.type) {
        case '=':
          return (l) => get(l) === m.value;
        case '!=':
          return (l) => get(l) !== m.value;
        case '=~': {
          const re = compileMatcherRegex(m.value, formatMatcher(m));
          return (l) => re.test(get(l));
        }
        case '!~': {
          const re = compileMatcherRegex(m.value, formatMatcher(m));
          return (l) => !re.test(get(l));
        }
      }
    });
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    return this._tests.every((t) => t(labels));
  }
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}

export function formatMatchers(ms: readonly Matcher[]): string {
  return `{${ms.map(formatMatcher).join(',')}}`;
}
