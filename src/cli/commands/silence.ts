/**
 * `perf-monitor silence add|list|expire`: manages the running agent's silences through its HTTP API
 * (/api/v1/silences). The agent's address comes from --url, else from the configuration's prometheus
 * host/port/tls. With basic auth, --user names the user and $PERF_MONITOR_PASSWORD holds the password
 * (never a command-line argument, where `ps` would show it).
 */
import { loadConfigFile } from '../../agent/load-config.js';
import type { Env } from '../../config/load.js';
import { SILENCES_PATH } from '../../alerts/silences-api.js';
import type { SilenceJson } from '../../alerts/silences-api.js';
import { formatMatchers, parseMatchers } from '../../alerts/matchers.js';
import { MAX_MATCHERS_PER_SILENCE, MAX_SILENCE_AHEAD_MS } from '../../alerts/silences.js';
import { SystemClock } from '../../lib/clock.js';
import { parseDurationMs } from '../../lib/duration.js';
import { AgentError, errorMessage } from '../../lib/errors.js';
import type { CliIo } from '../io.js';

export interface SilenceArgs {
  file: string;
  url?: string;
  user?: string;
  matchers?: string;
  duration?: string;
  end?: string;
  comment?: string;
  author?: string;
  id?: string;
  json?: boolean;
}

/** The agent's base URL: --url, else the configured listener (a wildcard host means loopback). */
async function agentUrl(args: SilenceArgs, env: Env): Promise<string> {
  if (args.url !== undefined) return args.url.replace(/\/+$/, '');
  const { config } = await loadConfigFile(args.file, env);
  const p = config.performance_monitor.prometheus;
  const host =
    p.host === '0.0.0.0'
      ? '127.0.0.1'
      : p.host === '::'
        ? '[::1]'
        : p.host.includes(':')
          ? `[${p.host}]`
          : p.host;
  return `${p.tls === undefined ? 'http' : 'https'}://${host}:${p.port}`;
}

async function call(
  base: string,
  method: string,
  path: string,
  args: SilenceArgs,
  env: Env,
  body?: unknown,
): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (args.user !== undefined) {
    const password = env.PERF_MONITOR_PASSWORD ?? '';
    headers.Authorization = `Basic ${Buffer.from(`${args.user}:${password}`).toString('base64')}`;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    throw new AgentError('E_AGENT_API', `cannot reach the agent at ${base}: ${errorMessage(err)}${cause}`, {
      cause: err,
    });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const msg = (json as { error?: string } | undefined)?.error ?? text.trim().slice(0, 200);
    throw new AgentError('E_AGENT_API', `${method} ${base}${path}: ${res.status} ${msg}`);
  }
  return json;
}

/** --end or --duration, checked here as the agent checks it: in the future and before now + 10 years. */
function endOf(args: SilenceArgs, nowMs: number): string {
  if (args.end !== undefined && args.duration !== undefined) {
    throw new AgentError('E_USAGE', 'give --end or --duration, not both');
  }
  if (args.end !== undefined) {
    const ms = Date.parse(args.end);
    if (Number.isNaN(ms)) {
      throw new AgentError('E_USAGE', `--end: not a timestamp: ${args.end} (e.g. 2026-12-01T06:00:00Z)`);
    }
    if (ms <= nowMs || ms >= nowMs + MAX_SILENCE_AHEAD_MS) {
      throw new AgentError('E_USAGE', `--end: must lie in the future and before now + 10 years: ${args.end}`);
    }
    return new Date(ms).toISOString();
  }
  const text = args.duration ?? '1h';
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0)
    throw new AgentError('E_USAGE', `--duration: not a duration: ${text} (e.g. 2h)`);
  if (ms >= MAX_SILENCE_AHEAD_MS)
    throw new AgentError('E_USAGE', `--duration: must be less than 10 years: ${text}`);
  return text;
}

export async function silenceCommand(
  action: 'add' | 'list' | 'expire',
  args: SilenceArgs,
  env: Env,
  io: CliIo,
): Promise<number> {
  if (action === 'add') {
    if (args.matchers === undefined) {
      throw new AgentError(
        'E_USAGE',
        'silence add needs --matchers, e.g. --matchers \'alertname="high_cpu_usage"\'',
      );
    }
    const matchers = parseMatchers(args.matchers, MAX_MATCHERS_PER_SILENCE);
    const endsAt = endOf(args, new SystemClock().nowMs());
    const base = await agentUrl(args, env);
    const out = (await call(base, 'POST', SILENCES_PATH, args, env, {
      matchers,
      endsAt,
      createdBy: args.author ?? env.USER ?? '',
      comment: args.comment ?? '',
    })) as { silenceID: string; silence: SilenceJson };
    io.out(args.json === true ? JSON.stringify(out.silence) : `${out.silenceID} until ${out.silence.endsAt}`);
    return 0;
  }
  if (action === 'expire') {
    if (args.id === undefined) throw new AgentError('E_USAGE', 'silence expire needs --id ID');
    const base = await agentUrl(args, env);
    await call(base, 'DELETE', `${SILENCES_PATH}/${encodeURIComponent(args.id)}`, args, env);
    io.out(`expired ${args.id}`);
    return 0;
  }
  const base = await agentUrl(args, env);
  const out = (await call(base, 'GET', SILENCES_PATH, args, env)) as { silences: SilenceJson[] };
  if (args.json === true) {
    io.out(JSON.stringify(out.silences, null, 2));
    return 0;
  }
  if (out.silences.length === 0) {
    io.out('no silences');
    return 0;
  }
  for (const s of out.silences) {
    const who = s.createdBy === '' ? '' : ` by ${s.createdBy}`;
    const why = s.comment === '' ? '' : `: ${s.comment}`;
    io.out(
      `${s.id}  ${s.status.state.padEnd(7)}  until ${s.endsAt}  ${formatMatchers(s.matchers)}${who}${why}`,
    );
  }
  return 0;
}
