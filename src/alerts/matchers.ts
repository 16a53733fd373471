/**
 * Label matchers as Alertmanager and PromQL write them: `name="value"`, `name!="value"`, `name=~"regex"`,
 * `name!~"regex"`. Regexes are anchored at both ends, as in Alertmanager, and run on the linear-time engine of
 * `safe-regex` (RE2 syntax). Values may be quoted or bare. Names and values have length limits: matchers
 * come from the HTTP API and are kept in memory and on disk.
 */
import { AgentError } from '../lib/errors.js';
import { MAX_REGEX_LENGTH, compileSafeRegex } from '../lib/safe-regex.js';
import type { SafeRegex } from '../lib/safe-regex.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
}

/** Longest label name in a matcher. */
export const MAX_LABEL_NAME_LENGTH = 128;
/** Longest matcher value, a regex source included. */
export const MAX_MATCHER_VALUE_LENGTH = MAX_REGEX_LENGTH;

// Linear: the value is whatever follows the operator (the text is trimmed first), never matched by a pattern
// that could backtrack over it.
const HEAD_RE = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/;

/** A matcher text short enough for an error message. */
function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Checks one matcher given as parts (the API's JSON form); throws E_USAGE naming `text` when it is not one. */
export function makeMatcher(name: string, type: MatchType, value: string, text: string): Matcher {
  if (name.length > MAX_LABEL_NAME_LENGTH) {
    throw new AgentError(
      'E_USAGE',
      `invalid matcher ${shown(text)}: label name longer than ${MAX_LABEL_NAME_LENGTH} characters`,
    );
  }
  if (!LABEL_NAME_RE.test(name)) {
    throw new AgentError(
      'E_USAGE',
      `invalid matcher ${shown(text)}: a label name uses letters, digits and underscores and does not start with a digit`,
    );
  }
  if (value.length > MAX_MATCHER_VALUE_LENGTH) {
    throw new AgentError(
      'E_USAGE',
      `invalid matcher ${shown(text)}: value longer than ${MAX_MATCHER_VALUE_LENGTH} characters`,
    );
  }
  if (type === '=~' || type === '!~') compileMatcherRegex(value, text);
  return { name, type, value };
}

/** Parses one matcher; throws E_USAGE naming the text when it is not one. */
export function parseMatcher(text: string): Matcher {
  const trimmed = text.trim();
  const m = HEAD_RE.exec(trimmed);
  if (m === null) {
    throw new AgentError(
      'E_USAGE',
      `invalid matcher ${shown(text)}: expected name=value, name!=value, name=~regex or name!~regex`,
    );
  }
  let value = trimmed.slice(m[0].length).trimStart();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = JSON.parse(value) as string;
    } catch {
      throw new AgentError('E_USAGE', `invalid matcher ${shown(text)}: bad quoted value`);
    }
  }
  return makeMatcher(m[1]!, m[2] as MatchType, value, text);
}

/**
 * Parses a list: `{a="1",b=~"x|y"}` or `a=1, b=~x|y` (commas inside quotes are kept). An empty list is an error:
 * a silence must not match every alert by accident; so is one longer than `max` (checked before any is compiled).
 */
export function parseMatchers(text: string, max = Number.POSITIVE_INFINITY): Matcher[] {
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
  const nonEmpty = parts.filter((p) => p.trim() !== '');
  if (nonEmpty.length > max) throw new AgentError('E_USAGE', `${nonEmpty.length} matchers, at most ${max}`);
  const matchers = nonEmpty.map(parseMatcher);
  if (matchers.length === 0) throw new AgentError('E_USAGE', 'at least one matcher is required');
  return matchers;
}

function compileMatcherRegex(source: string, text: string): SafeRegex {
  try {
    return compileSafeRegex(source, { anchored: true });
  } catch (err) {
    const why = err instanceof AgentError ? err.message : 'not a valid regular expression';
    throw new AgentError('E_USAGE', `invalid matcher ${shown(text)}: ${why}`, { cause: err });
  }
}

/** A compiled matcher list: `matches(labels)` is true when every matcher holds (a missing label is ""). */
export class MatcherSet {
  /** Instructions of the compiled regexes together: a rough measure of the memory the set holds. */
  readonly regexProgramSize: number;
  private readonly _tests: ((labels: Readonly<Record<string, string>>) => boolean)[];

  constructor(readonly matchers: readonly Matcher[]) {
    let programSize = 0;
    const compile = (m: Matcher): SafeRegex => {
      const re = compileMatcherRegex(m.value, formatMatcher(m));
      programSize += re.programSize;
      return re;
    };
    this._tests = matchers.map((m) => {
      const get = (labels: Readonly<Record<string, string>>): string =>
        Object.hasOwn(labels, m.name) ? labels[m.name]! : '';
      switch (m.type) {
        case '=':
          return (l) => get(l) === m.value;
        case '!=':
          return (l) => get(l) !== m.value;
        case '=~': {
          const re = compile(m);
          return (l) => re.test(get(l));
        }
        case '!~': {
          const re = compile(m);
          return (l) => !re.test(get(l));
        }
      }
    });
    this.regexProgramSize = programSize;
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    return this._tests.every((t) => t(labels));
  }
}

function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}

export function formatMatchers(ms: readonly Matcher[]): string {
  return `{${ms.map(formatMatcher).join(',')}}`;
}
