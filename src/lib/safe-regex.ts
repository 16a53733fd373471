/**
 * Regular expressions that come from outside (silence and maintenance-window matchers, the configuration's
 * exclude patterns) run here, on re2js: a port of RE2 whose matching time is linear in the input, so no
 * pattern can freeze the event loop the way `(\w|\w|\w)*!` freezes a backtracking `RegExp`. The syntax is
 * RE2's (as in Prometheus and Alertmanager): backreferences and lookaround do not exist there and are refused
 * with a clear message.
 *
 * Memory and compile time are bounded too: the source is at most MAX_REGEX_LENGTH characters, the compiled
 * program at most MAX_REGEX_PROGRAM_SIZE instructions, and the lazily built DFA of each pattern gets a memory
 * budget in proportion to its program instead of re2js's 8 MiB (past it the DFA starts over or the linear NFA
 * takes over; the answer is the same).
 */
import { createRequire } from 'node:module';
import type * as Re2jsModule from 're2js';
import type { RE2JS } from 're2js';
import { AgentError } from './errors.js';

type Re2js = typeof Re2jsModule;
let re2js: Re2js | undefined;
/** re2js (about 4.5 MB resident) is loaded when the first pattern from outside is compiled, not at import. */
function engine(): Re2js {
  return (re2js ??= createRequire(import.meta.url)('re2js') as Re2js);
}

/** Longest source accepted, in characters. */
export const MAX_REGEX_LENGTH = 1024;
/**
 * Largest compiled program accepted, in instructions (a literal of 1024 characters is about 1000; `web-.*` is
 * about 10). Compiling takes time in proportion, so this also bounds the time one pattern costs.
 */
export const MAX_REGEX_PROGRAM_SIZE = 2000;
/** DFA bytes per program instruction, with a floor and a ceiling (re2js's own default is 8 MiB for every pattern). */
const DFA_BYTES_PER_INSTRUCTION = 512;
const MIN_DFA_BYTES = 16 * 1024;
const MAX_DFA_BYTES = 1024 * 1024;

/** What a pattern-taking option needs: a built-in RegExp constant or a SafeRegex from outside. */
export interface TextPattern {
  test(text: string): boolean;
}

export interface SafeRegex extends TextPattern {
  readonly source: string;
  /** Whether `test` must match the whole text (`^(?:source)$`) or may match any part of it. */
  readonly anchored: boolean;
  /** Instructions of the compiled program: a rough measure of the memory the pattern holds. */
  readonly programSize: number;
  /** The memory the engine may give this pattern's DFA, as the engine holds it. */
  readonly dfaBudgetBytes: number;
  test(text: string): boolean;
}

/** The DFA memory budget of a program of `programSize` instructions. */
export function dfaBudgetBytes(programSize: number): number {
  return Math.min(MAX_DFA_BYTES, Math.max(MIN_DFA_BYTES, programSize * DFA_BYTES_PER_INSTRUCTION));
}

/** Why RE2 refused a pattern, in words that say what to write instead. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
  if (/invalid escape sequence: `\\[1-9]`|invalid escape sequence: `\\k`/.test(message)) {
    return `backreferences are not supported (RE2 syntax, matched in linear time): ${message}`;
  }
  if (/`\(\?[=!]|`\(\?<[=!]/.test(message)) {
    return `lookahead and lookbehind are not supported (RE2 syntax, matched in linear time): ${message}`;
  }
  return `not a valid regular expression (RE2 syntax): ${message}`;
}

/**
 * Compiles `source`; `anchored` makes `test` match the whole text, as Prometheus and Alertmanager do for
 * label matchers, else `test` finds the pattern anywhere, as node_exporter does for its exclude flags.
 * Throws AgentError E_USAGE whose message (without the field's name, which the caller adds) says why.
 */
export function compileSafeRegex(source: string, opts: { anchored: boolean }): SafeRegex {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new AgentError(
      'E_USAGE',
      `regular expression longer than ${MAX_REGEX_LENGTH} characters (${source.length})`,
    );
  }
  const { RE2JS: Engine, RE2JSException } = engine();
  let compiled: RE2JS;
  try {
    compiled = Engine.compile(source);
  } catch (err) {
    if (err instanceof RE2JSException) throw new AgentError('E_USAGE', describe(err), { cause: err });
    throw err;
  }
  const programSize = compiled.programSize();
  if (programSize > MAX_REGEX_PROGRAM_SIZE) {
    throw new AgentError(
      'E_USAGE',
      `regular expression too large: it compiles to ${programSize} instructions, at most ${MAX_REGEX_PROGRAM_SIZE}`,
    );
  }
  const anchored = opts.anchored;
  // The DFA is built lazily (for a large Unicode class that takes a while): its budget is set on first use.
  let budgeted = false;
  const dfaBudget = (): number => {
    const dfa = compiled.re2().dfa;
    if (!budgeted) {
      dfa.stateBudget = dfaBudgetBytes(programSize);
      dfa.memBudget = dfa.stateBudget;
      budgeted = true;
    }
    return dfa.stateBudget;
  };
  return {
    source,
    anchored,
    programSize,
    get dfaBudgetBytes() {
      return dfaBudget();
    },
    test: (text) => {
      if (!budgeted) dfaBudget();
      return anchored ? compiled.testExact(text) : compiled.test(text);
    },
  };
}
