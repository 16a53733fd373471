/**
 * Property-based fuzzing of alert templates: any text compiles or is refused with a clear Error, the
 * compiler agrees with the regular-expression reading it replaced, and expansion never throws and writes
 * exactly the text, label values and values the template names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate, expandTemplate, formatGoFloat } from '../../../src/alerts/template.js';
import type { CompiledTemplate, TemplatePart } from '../../../src/alerts/template.js';
import { FUZZ_TIMEOUT_MS, anyText, edgyNumber, fuzzParams } from './fuzz-settings.js';

/** The compiler as it was (a regular expression finds the actions): the model for short templates. */
function regexModel(source: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of source.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)) {
    const action = m[1]!;
    if (m.index > last) parts.push({ kind: 'text', text: source.slice(last, m.index) });
    last = m.index + m[0].length;
    const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(action);
    const value = /^\$value(?:\s*\|\s*printf\s+"%\.(\d)f")?$/.exec(action);
    if (label !== null) parts.push({ kind: 'label', name: label[1]! });
    else if (value !== null)
      parts.push(value[1] === undefined ? { kind: 'value' } : { kind: 'value', fixed: Number(value[1]) });
    else return `unsupported template action {{ ${action.replace(/\r/g, '\\r').replace(/\n/g, '\\n')} }}`;
  }
  if (last < source.length) parts.push({ kind: 'text', text: source.slice(last) });
  if (parts.some((p) => p.kind === 'text' && p.text.includes('{{'))) return 'unclosed template action';
  return parts;
}

const labelName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/),
  // Names every object has through its prototype: they are not labels.
  fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'),
);

/** Template text: actions the engine knows, near misses, stray braces, trim markers and noise. */
const templateText = fc
  .array(
    fc.oneof(
      labelName.map((n) => `{{ $labels.${n} }}`),
      fc.constantFrom(
        '{{ $value }}',
        '{{$value}}',
        '{{- $value -}}',
        '{{ $value | printf "%.2f" }}',
        '{{$value|printf "%.0f"}}',
        '{{ $value | printf "%.10f" }}',
        '{{ humanize $value }}',
        '{{',
        '}}',
        '{',
        '}',
        '-',
        ' ',
        '\n',
        '\t',
        '{{}}',
        '{{-}}',
        '{{ - }}',
        '$labels.',
        '$value',
        '"',
      ),
      anyText(6),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

const labels = fc.dictionary(labelName, anyText(20), { maxKeys: 5 });

/** Compiles, or returns the Error; anything but an Error with one of the two messages fails. */
function compileOrError(source: string): CompiledTemplate | Error {
  try {
    return compileTemplate(source);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^(unsupported template action \{\{ |unclosed template action)/);
    expect((err as Error).message, 'one line').not.toMatch(/[\n\r]/);
    return err as Error;
  }
}

describe('compileTemplate and expandTemplate (fuzz)', () => {
  it('should read any template as the regular-expression compiler did', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.oneof(templateText, anyText(40)), (source) => {
        const ours = compileOrError(source);
        const model = regexModel(source);
        if (typeof model === 'string') {
          expect(ours).toBeInstanceOf(Error);
          expect((ours as Error).message.startsWith(model)).toBe(true);
        } else {
          expect(ours).not.toBeInstanceOf(Error);
          expect((ours as CompiledTemplate).parts).toEqual(model);
        }
      }),
      fuzzParams(1000, [
        ['{{-}}'],
        ['{{ - }}'],
        ['{{--}}'],
        ['{{ x -}}'],
        ['{{- $value- }}'],
        ['{{{ $value }}}'],
        // Found by the rule property: an action with a line break made a two-line error.
        ['{{ a\nb\r }}'],
      ]),
    );
  });

  it(
    'should expand without throwing, to the text, the own labels and the value',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(templateText, labels, edgyNumber, (source, ls, value) => {
          const t = compileOrError(source);
          if (t instanceof Error) return;
          const expected = t.parts
            .map((p) =>
              p.kind === 'text'
                ? p.text
                : p.kind === 'label'
                  ? Object.hasOwn(ls, p.name)
                    ? ls[p.name]
                    : ''
                  : p.fixed === undefined
                    ? formatGoFloat(value)
                    : Number.isFinite(value)
                      ? value.toFixed(p.fixed)
                      : formatGoFloat(value),
            )
            .join('');
          expect(expandTemplate(t, ls, value)).toBe(expected);
        }),
        fuzzParams(1000, [
          // Found by this property: a label name that every object has (constructor, __proto__) expanded to
          // the prototype's member ("function Object() …") instead of the empty string of a missing label.
          ['{{ $labels.constructor }}', {}, 1],
          ['{{ $labels.__proto__ }}{{ $labels.toString }}', { a: 'x' }, 1],
        ]),
      );
    },
  );

  it('should compile a template of a `{{` and many spaces in one pass', () => {
    // Found while fuzzing: the regular expression that found actions took cubic time here (about a minute
    // for 5000 spaces); the compiler now scans the text once. Without the fix this test runs well past the
    // test timeout.
    const source = `{{${' '.repeat(2500)}`;
    expect(() => compileTemplate(source)).toThrow(/unclosed/);
    expect(compileTemplate(`{{ $value${' '.repeat(100_000)}}}`).parts).toEqual([{ kind: 'value' }]);
  });
});
