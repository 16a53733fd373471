/**
 * HTTP routes for silences, handed to the agent's HTTP server (same listener, TLS and basic auth as
 * /metrics): `GET /api/v1/silences`, `POST /api/v1/silences`, `GET|DELETE /api/v1/silences/<id>`.
 * POST needs `Content-Type: application/json` (a browser cannot send that cross-site without a CORS
 * preflight, which this server never grants) and a body of at most 64 KiB (else 413). Every other bad input is
 * a 400 whose `error` names the field; the store's limits (silences.ts) apply before anything is stored.
 */
import type http from 'node:http';
import type { Route } from '../model/route.js';
import type { Clock } from '../lib/clock.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { parseDurationMs } from '../lib/duration.js';
import { makeMatcher, parseMatcher, parseMatchers } from './matchers.js';
import type { Matcher, MatchType } from './matchers.js';
import { MAX_MATCHERS_PER_SILENCE, silenceState } from './silences.js';
import type { Silence, SilenceStore } from './silences.js';

export const SILENCES_PATH = '/api/v1/silences';
const MAX_BODY_BYTES = 64 * 1024;

/** A silence as the API shows it. */
export interface SilenceJson {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: string };
}

function silenceJson(s: Silence, nowMs: number): SilenceJson {
  return {
    id: s.id,
    matchers: s.matchers,
    startsAt: new Date(s.startsAtMs).toISOString(),
    endsAt: new Date(s.endsAtMs).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    status: { state: silenceState(s, nowMs) },
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** A value short enough for an error message. */
function shown(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/** The body as text, or undefined when it is larger than MAX_BODY_BYTES (read no further). */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const TYPES: readonly MatchType[] = ['=', '!=', '=~', '!~'];

function toMatchers(value: unknown): Matcher[] {
  try {
    if (typeof value === 'string') return parseMatchers(value, MAX_MATCHERS_PER_SILENCE);
    if (!Array.isArray(value) || value.length === 0) {
      throw new AgentError('E_USAGE', 'expected a non-empty list');
    }
    if (value.length > MAX_MATCHERS_PER_SILENCE) {
      throw new AgentError('E_USAGE', `${value.length} matchers, at most ${MAX_MATCHERS_PER_SILENCE}`);
    }
    return value.map((m: unknown) => {
      if (typeof m === 'string') return parseMatcher(m);
      const o = m as Partial<Record<keyof Matcher, unknown>> | null;
      if (o === null || typeof o !== 'object' || typeof o.name !== 'string' || typeof o.value !== 'string') {
        throw new AgentError('E_USAGE', 'each needs a name and a value');
      }
      const type = TYPES.find((t) => t === (o.type ?? '='));
      if (type === undefined) {
        throw new AgentError('E_USAGE', `unknown type ${JSON.stringify(o.type)?.slice(0, 64) ?? ''}`);
      }
      return makeMatcher(o.name, type, o.value, `${o.name}${type}${JSON.stringify(o.value)}`);
    });
  } catch (err) {
    throw new AgentError('E_USAGE', `matchers: ${errorMessage(err)}`, { cause: err });
  }
}

/** `startsAt`/`endsAt`: an ISO timestamp, or a duration from now (`2h`). The store checks the range. */
function toTime(value: unknown, field: string, nowMs: number): number {
  if (typeof value !== 'string') {
    throw new AgentError('E_USAGE', `${field}: expected a timestamp or a duration`);
  }
  const asDuration = /^\d/.test(value) && !/^\d{4}-/.test(value) ? parseDurationMs(value) : undefined;
  if (asDuration !== undefined) return nowMs + asDuration;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new AgentError(
      'E_USAGE',
      `${field}: not a timestamp or duration (at most 10 years from now): ${shown(value)}`,
    );
  }
  return ms;
}

function toText(value: unknown, field: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new AgentError('E_USAGE', `${field}: expected a string`);
  return value;
}

/** The id of `/api/v1/silences/<id>`, or undefined when its percent-encoding is malformed. */
function silenceId(url: string | undefined): string | undefined {
  try {
    return decodeURIComponent((url ?? '').split('?')[0]!.slice(SILENCES_PATH.length + 1));
  } catch {
    return undefined;
  }
}

export function silenceRoutes(getStore: () => SilenceStore | undefined, clock: Clock): Route[] {
  const store = (res: http.ServerResponse): SilenceStore | undefined => {
    const s = getStore();
    if (s === undefined) send(res, 503, { error: 'alert notifications are not running' });
    return s;
  };
  return [
    {
      path: SILENCES_PATH,
      description: 'silences: GET lists them, POST adds one (JSON: matchers, endsAt, createdBy, comment)',
      methods: ['POST'],
      handler: async (req, res) => {
        const s = store(res);
        if (s === undefined) return;
        const now = clock.nowMs();
        if (req.method !== 'POST') {
          send(res, 200, { silences: s.list(now).map((x) => silenceJson(x, now)) });
          return;
        }
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
          send(res, 415, { error: 'expected Content-Type: application/json' });
          return;
        }
        try {
          const text = await readBody(req);
          if (text === undefined) {
            res.setHeader('Connection', 'close');
            send(res, 413, { error: `request body larger than ${MAX_BODY_BYTES} bytes` });
            return;
          }
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            send(res, 400, { error: 'body is not valid JSON' });
            return;
          }
          if (body === null || typeof body !== 'object' || Array.isArray(body)) {
            throw new AgentError('E_USAGE', 'body: expected a JSON object');
          }
          const b = body as Record<string, unknown>;
          const silence = s.add(
            {
              matchers: toMatchers(b.matchers),
              startsAtMs: b.startsAt === undefined ? undefined : toTime(b.startsAt, 'startsAt', now),
              endsAtMs: toTime(b.endsAt, 'endsAt', now),
              createdBy: toText(b.createdBy, 'createdBy'),
              comment: toText(b.comment, 'comment'),
            },
            now,
          );
          send(res, 200, { silenceID: silence.id, silence: silenceJson(silence, now) });
        } catch (err) {
          if (err instanceof SyntaxError) send(res, 400, { error: 'body is not valid JSON' });
          else if (err instanceof AgentError && err.code === 'E_USAGE')
            send(res, 400, { error: err.message });
          else send(res, 500, { error: `cannot store the silence: ${errorMessage(err)}` });
        }
      },
    },
    {
      path: `${SILENCES_PATH}/*`,
      description: 'one silence: GET shows it, DELETE expires it',
      methods: ['DELETE'],
      handler: (req, res) => {
        const s = store(res);
        if (s === undefined) return;
        const now = clock.nowMs();
        const id = silenceId(req.url);
        if (id === undefined) {
          send(res, 400, { error: 'silence id: malformed percent-encoding' });
          return;
        }
        const silence = s.get(id);
        if (silence === undefined) {
          send(res, 404, { error: `no silence ${shown(id)}` });
          return;
        }
        if (req.method === 'DELETE') {
          if (s.expire(id, now)) send(res, 200, { expired: id });
          else send(res, 409, { error: `silence ${id} has already ended` });
          return;
        }
        send(res, 200, silenceJson(silence, now));
      },
    },
  ];
}
