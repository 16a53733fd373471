/**
 * A synthetic application for `perf-monitor demo`: every few hundred milliseconds it records a round of
 * agent executions, API requests, queue work, entity processing and cache traffic through the public
 * application metrics API, with values that drift and jitter like a real service. On demand it pushes
 * the values past the default alert rules' thresholds for a while (an alert) or spikes latency and load
 * for a short time (an anomaly).
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { ApplicationMetrics } from '../telemetry/application-metrics.js';

/** The application metrics API the workload records through (what `agent.getApplicationCollector()` gives). */
export type ApplicationRecorder = Pick<
  ApplicationMetrics,
  | 'recordAgentExecution'
  | 'recordAgentError'
  | 'recordApiRequest'
  | 'recordApiError'
  | 'setQueueLength'
  | 'recordQueueProcessing'
  | 'recordEntityProcessing'
  | 'recordCacheHit'
  | 'recordCacheMiss'
  | 'setCacheSize'
>;

export const DEMO_AGENTS = ['planner', 'researcher', 'writer'] as const;
const DEMO_ENDPOINTS = [
  { endpoint: '/api/v1/tasks', method: 'GET' },
  { endpoint: '/api/v1/tasks', method: 'POST' },
  { endpoint: '/api/v1/search', method: 'GET' },
] as const;
export const DEMO_QUEUES = ['ingest', 'notifications'] as const;
const DEMO_ENTITIES = ['document', 'person', 'organization'] as const;
const DEMO_OPERATIONS = ['create', 'update', 'link'] as const;
export const DEMO_CACHES = ['sessions', 'embeddings'] as const;

/**
 * Values past the default rules (config/performance_monitor_config.yaml): queue_backlog (> 1000 items),
 * slow_api_requests (p95 > 1 s), high_api_error_rate (> 1/s), high_agent_error_rate (> 0.1/s).
 */
export const ALERT_LEVELS = {
  queueLength: 1500,
  apiLatencySeconds: 2,
  apiErrorsPerSecond: 3,
  agentErrorsPerSecond: 0.5,
} as const;

export type WorkloadMode = 'normal' | 'alert' | 'spike';

export interface WorkloadOptions {
  recorder: ApplicationRecorder;
  clock: Clock;
  /** Time between rounds. Default 250 ms. */
  tickMs?: number;
  /** Uniform [0, 1); inject a seeded one for repeatable values. Default Math.random. */
  random?: () => number;
  /** How long `triggerSpike()` lasts. Default 20 s. */
  spikeMs?: number;
  /** How long `triggerAlert()` lasts: longer than the rules' `duration` (300 s) so they fire. Default 6 min. */
  alertMs?: number;
}

export interface WorkloadStats {
  rounds: number;
  mode: WorkloadMode;
}

/** xorshift32: a small seeded generator for repeatable workloads (tests, benchmarks). */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export class DemoWorkload {
  private readonly _rec: ApplicationRecorder;
  private readonly _clock: Clock;
  private readonly _tickMs: number;
  private readonly _random: () => number;
  private readonly _spikeMs: number;
  private readonly _alertMs: number;
  private _timer: TimerHandle | undefined;
  private _running = false;
  private _rounds = 0;
  private _startMs = 0;
  private _spikeUntilMs = -Infinity;
  private _alertUntilMs = -Infinity;
  private readonly _queues = new Map<string, number>();
  private readonly _caches = new Map<string, number>();
  /** Error debt: fractional errors carried between rounds so the per-second rate is exact. */
  private _apiErrorDebt = 0;
  private _agentErrorDebt = 0;

  constructor(options: WorkloadOptions) {
    this._rec = options.recorder;
    this._clock = options.clock;
    this._tickMs = options.tickMs ?? 250;
    this._random = options.random ?? Math.random;
    this._spikeMs = options.spikeMs ?? 20_000;
    this._alertMs = options.alertMs ?? 360_000;
    for (const q of DEMO_QUEUES) this._queues.set(q, 20);
    for (const c of DEMO_CACHES) this._caches.set(c, 500);
  }

  /** Records the first round now, then one every tick. */
  start(): void {
    if (this._running) return;
    this._running = true;
    this._startMs = this._clock.monotonicMs();
    this.tick();
    this._schedule();
  }

  shutdown(): Promise<void> {
    this._running = false;
    this._timer?.cancel();
    this._timer = undefined;
    return Promise.resolve();
  }

  /** Latency and load jump for `spikeMs` (an anomaly for trend detection). */
  triggerSpike(): void {
    this._spikeUntilMs = this._clock.monotonicMs() + this._spikeMs;
  }

  /** Values past the default alert thresholds for `alertMs`. */
  triggerAlert(): void {
    this._alertUntilMs = this._clock.monotonicMs() + this._alertMs;
  }

  get mode(): WorkloadMode {
    const now = this._clock.monotonicMs();
    if (now < this._alertUntilMs) return 'alert';
    if (now < this._spikeUntilMs) return 'spike';
    return 'normal';
  }

  stats(): WorkloadStats {
    return { rounds: this._rounds, mode: this.mode };
  }

  /** One round of every application metric. Public so tests can drive it without timers. */
  tick(): void {
    this._rounds++;
    const mode = this.mode;
    const seconds = this._tickMs / 1000;
    // A slow daily-like swell (period 5 min) so graphs move even without a spike.
    const swell = 1 + 0.3 * Math.sin(((this._clock.monotonicMs() - this._startMs) / 300_000) * 2 * Math.PI);
    const latencyFactor = mode === 'spike' ? 12 : 1;
    const loadFactor = (mode === 'spike' ? 4 : 1) * swell;

    // Agents: a few executions per round, seconds each; some fail.
    for (const agent of DEMO_AGENTS) {
      if (this._random() > 0.6 * loadFactor) continue;
      const failed = this._random() < 0.03;
      this._rec.recordAgentExecution(
        agent,
        this._jitter(0.8, 0.6) * latencyFactor,
        failed ? 'error' : 'success',
      );
      if (failed)
        this._rec.recordAgentError(agent, this._pick(['timeout', 'tool_failure', 'invalid_output']));
    }
    this._agentErrorDebt += mode === 'alert' ? ALERT_LEVELS.agentErrorsPerSecond * seconds : 0;
    while (this._agentErrorDebt >= 1) {
      this._agentErrorDebt -= 1;
      this._rec.recordAgentError(this._pick(DEMO_AGENTS), 'timeout');
    }

    // API: several requests per round, tens of milliseconds; a few 5xx.
    const requests = Math.max(1, Math.round(6 * loadFactor * this._jitter(1, 0.3)));
    for (let i = 0; i < requests; i++) {
      const { endpoint, method } = this._pick(DEMO_ENDPOINTS);
      const latency =
        mode === 'alert'
          ? ALERT_LEVELS.apiLatencySeconds * this._jitter(1, 0.2)
          : this._jitter(0.045, 0.5) * latencyFactor;
      const failed = this._random() < 0.01;
      this._rec.recordApiRequest(endpoint, method, latency, failed ? 500 : 200);
      if (failed) this._rec.recordApiError(endpoint, method, 'internal');
    }
    if (mode === 'spike') {
      // A bug that comes with the spike: a timer read across a clock step gives a negative duration. The
      // agent drops such measurements and counts them (the Agent Health row shows it).
      const { endpoint, method } = this._pick(DEMO_ENDPOINTS);
      this._rec.recordApiRequest(endpoint, method, -0.001, 200);
    }
    this._apiErrorDebt += mode === 'alert' ? ALERT_LEVELS.apiErrorsPerSecond * seconds : 0;
    while (this._apiErrorDebt >= 1) {
      this._apiErrorDebt -= 1;
      const { endpoint, method } = this._pick(DEMO_ENDPOINTS);
      this._rec.recordApiRequest(endpoint, method, ALERT_LEVELS.apiLatencySeconds, 503);
      this._rec.recordApiError(endpoint, method, 'unavailable');
    }

    // Queues: a random walk; processing drains what arrived.
    for (const queue of DEMO_QUEUES) {
      const arrived = Math.round(10 * loadFactor * this._random());
      const processed = Math.max(1, Math.round(10 * this._random()));
      const walked = Math.min(400, Math.max(0, (this._queues.get(queue) ?? 0) + arrived - processed));
      this._queues.set(queue, walked);
      const length = mode === 'alert' ? ALERT_LEVELS.queueLength + Math.round(100 * this._random()) : walked;
      this._rec.setQueueLength(queue, length);
      this._rec.recordQueueProcessing(queue, this._jitter(0.02, 0.5) * latencyFactor, processed);
    }

    // Entities: a handful per round.
    for (let i = 0; i < 3; i++) {
      this._rec.recordEntityProcessing(
        this._pick(DEMO_ENTITIES),
        this._pick(DEMO_OPERATIONS),
        this._jitter(0.012, 0.5) * latencyFactor,
      );
    }

    // Caches: ~85 % hits; the size drifts around 500 entries.
    for (const cache of DEMO_CACHES) {
      const lookups = 8;
      for (let i = 0; i < lookups; i++) {
        if (this._random() < 0.85) this._rec.recordCacheHit(cache);
        else this._rec.recordCacheMiss(cache);
      }
      const size = Math.max(0, (this._caches.get(cache) ?? 0) + Math.round(20 * (this._random() - 0.5)));
      this._caches.set(cache, size);
      this._rec.setCacheSize(cache, size);
    }
  }

  private _schedule(): void {
    if (!this._running) return;
    this._timer = this._clock.setTimeout(() => {
      if (!this._running) return;
      this.tick();
      this._schedule();
    }, this._tickMs);
  }

  /** `mean` ± `spread` (relative), never negative. */
  private _jitter(mean: number, spread: number): number {
    return Math.max(0, mean * (1 + spread * (2 * this._random() - 1)));
  }

  private _pick<T>(items: readonly T[]): T {
    return items[Math.floor(this._random() * items.length) % items.length]!;
  }
}
