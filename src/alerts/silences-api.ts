/**
 * HTTP routes for silences, handed to the agent's HTTP server (same listener, TLS and basic auth as
 * /metrics): `GET /api/v1/silences`, `POST /api/v1/silences`, `GET|DELETE /api/v1/silences/<id>`.
 * POST needs `Content-Type: application/json` (a browser cannot send that cross-site without a CORS
 * preflight, which this server never grants) and a body of at most 64 KiB.
 */
import type http from 'node:http';
import type { Route } from '../export/http-server.js';
import type { Clock } from '../lib/clock.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { parseDurationMs } from '../lib/duration.js';
import { parseMatcher, parseMatchers } from './matchers.js';
import type { Matcher, MatchType } from './matchers.js';
import { silenceState } from './silences.js';
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

export function silenceJson(s: Silence, nowMs: number): SilenceJson {
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

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new AgentError('E_USAGE', `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const TYPES: readonly MatchType[] = ['=', '!=', '=~', '!~'];

function toMatchers(value: unknown): Matcher[] {
  if (typeof value === 'string') return parseMatchers(value);
  if (!Array.isArray(value) || value.length === 0) {
    throw new AgentError('E_USAGE', 'matchers: expected a non-empty list');
  }
  return value.map((m: unknown) => {
    if (typeof m === 'string') return parseMatcher(m);
    const o = m as Partial<Matcher> | null;
    if (o === null || typeof o.name !== 'string' || typeof o.value !== 'string') {
      throw new AgentError('E_USAGE', 'matchers: each needs a name and a value');
    }
    const type = o.type ?? '=';
    if (!TYPES.includes(type))
      throw new AgentError('E_USAGE', `matchers: unknown type ${JSON.stringify(type)}`);
    return parseMatcher(`${o.name}${type}${JSON.stringify(o.value)}`);
  });
}

/** `endsAt`: an ISO timestamp, or a duration from now (`2h`). */
function toTime(value: unknown, field: string, nowMs: number): number {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new AgentError('E_USAGE', `${field}: expected a timestamp or a duration`);
  }
  const asDuration = typeof value === 'string' && /^\d/.test(value) ? parseDurationMs(value) : undefined;
  if (asDuration !== undefined && !/^\d{4}-/.test(String(value))) return nowMs + asDuration;
  const ms = Date.parse(String(value));
  if (Number.isNaN(ms))
    throw new AgentError('E_USAGE', `${field}: not a timestamp or duration: ${String(value)}`);
  return ms;
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
          const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
          const silence = s.add(
            {
              matchers: toMatchers(body.matchers),
              startsAtMs: body.startsAt === undefined ? undefined : toTime(body.startsAt, 'startsAt', now),
              endsAtMs: toTime(body.endsAt, 'endsAt', now),
              createdBy: typeof body.createdBy === 'string' ? body.createdBy.slice(0, 200) : '',
              comment: typeof body.comment === 'string' ? body.comment.slice(0, 2000) : '',
            },
            now,
          );
          send(res, 200, { silenceID: silence.id, silence: silenceJson(silence, now) });
        } catch (err) {
          send(res, 400, {
            error: err instanceof SyntaxError ? 'body is not valid JSON' : errorMessage(err),
          });
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
        const id = decodeURIComponent((req.url ?? '').split('?')[0]!.slice(SILENCES_PATH.length + 1));
        const silence = s.get(id);
        if (silence === undefined) {
          send(res, 404, { error: `no silence ${id}` });
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
