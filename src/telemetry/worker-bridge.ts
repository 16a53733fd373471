/**
 * Application metrics from worker threads. In a worker, the API object (WorkerApplicationMetrics) keeps
 * each call in a buffer and posts the buffer, batched, on a BroadcastChannel at the end of the current
 * event-loop turn (or when it holds 2048 calls, or when the thread exits). In the main thread the agent's
 * ApplicationBridge receives the batches and replays them into its ApplicationMetrics, so a worker
 * pool's measurements reach the one agent and its one endpoint: not lost, not served twice. Nothing is
 * aggregated in the workers, so they need no configuration: the main thread applies its labels, buckets
 * and limits.
 */
import type { BroadcastChannel } from 'node:worker_threads';
import { nodeWorkerThreads } from '../lib/builtins.js';
import { SystemClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import { guarded, reportCaught } from '../lib/guard.js';
import type { ApplicationRecorder, HttpClientRecorder, Status } from './application-recorder.js';
import { ApplicationRecorderBase } from './application-recorder.js';

const BRIDGE_CHANNEL = 'perf-monitor-agent:application-metrics:v2';

/** The methods a batch may call, by index; the order is the wire format. */
const METHODS = [
  'recordAgentExecution',
  'recordAgentError',
  'recordApiRequest',
  'recordApiError',
  'setQueueLength',
  'recordQueueProcessing',
  'recordEntityProcessing',
  'recordCacheHit',
  'recordCacheMiss',
  'setCacheSize',
  'record',
  'recordHttpClientRequest',
  'recordHttpClientError',
] as const;

type MethodName = (typeof METHODS)[number];
/**
 * Not a method: how many earlier batches this worker could not post (a value that cannot be cloned, a
 * closed channel), sent at the head of the next batch it posts. Counted in the main thread as
 * monitor_internal_errors{where="worker metrics batch lost"}.
 */
const LOST_BATCHES = METHODS.length;
export const LOST_BATCHES_PLACE = 'worker metrics batch lost';
/** Slots per call in a batch: the method index and up to four arguments. */
export const CALL_STRIDE = 5;
const STRIDE = CALL_STRIDE;
const MAX_CALLS = 2048;

export class WorkerApplicationMetrics extends ApplicationRecorderBase implements HttpClientRecorder {
  protected readonly _timeClock: Clock = new SystemClock();
  private readonly _channel: BroadcastChannel;
  private _buffer: unknown[] = [];
  private _scheduled = false;
  /** Batches that could not be posted since the last one that was. */
  private _lostBatches = 0;
  // Runs in the application's worker thread, where a throw would end the thread.
  private readonly _flush = guarded(undefined, 'worker metrics flush', (): void => {
    this._scheduled = false;
    this.flush();
  });

  constructor() {
    super();
    this._channel = new (nodeWorkerThreads().BroadcastChannel)(BRIDGE_CHANNEL);
    this._channel.unref();
    process.once(
      'exit',
      guarded(undefined, 'worker metrics flush on exit', () => this.flush()),
    );
  }

  /** Posts what is buffered now. */
  flush(): void {
    if (this._buffer.length === 0) return;
    const batch = this._buffer;
    this._buffer = [];
    const lost = this._lostBatches;
    try {
      this._channel.postMessage(
        lost === 0 ? batch : [LOST_BATCHES, lost, undefined, undefined, undefined, ...batch],
      );
      this._lostBatches = 0;
    } catch {
      // Recording never throws: the batch is lost, and the next batch posted tells the main thread so (this
      // thread's own failure counts are never served).
      this._lostBatches = lost + 1;
    }
  }

  private _push(method: number, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    this._buffer.push(method, a, b, c, d);
    if (this._buffer.length >= MAX_CALLS * STRIDE) {
      this.flush();
    } else if (!this._scheduled) {
      this._scheduled = true;
      setImmediate(this._flush);
    }
  }

  recordAgentExecution(agentName: string, durationSeconds: number, status: Status = 'success'): void {
    this._push(0, agentName, durationSeconds, status);
  }
  recordAgentError(agentName: string, errorType: string): void {
    this._push(1, agentName, errorType);
  }
  recordApiRequest(endpoint: string, method: string, durationSeconds: number, status: Status): void {
    this._push(2, endpoint, method, durationSeconds, status);
  }
  recordApiError(endpoint: string, method: string, errorType: string): void {
    this._push(3, endpoint, method, errorType);
  }
  setQueueLength(queueName: string, length: number): void {
    this._push(4, queueName, length);
  }
  recordQueueProcessing(queueName: string, durationSeconds: number, items = 1): void {
    this._push(5, queueName, durationSeconds, items);
  }
  recordEntityProcessing(entityType: string, operation: string, durationSeconds: number): void {
    this._push(6, entityType, operation, durationSeconds);
  }
  recordCacheHit(cacheName: string): void {
    this._push(7, cacheName);
  }
  recordCacheMiss(cacheName: string): void {
    this._push(8, cacheName);
  }
  setCacheSize(cacheName: string, size: number): void {
    this._push(9, cacheName, size);
  }
  record(name: string, value: number, labelValues: readonly string[] = []): void {
    this._push(10, name, value, [...labelValues]);
  }
  recordHttpClientRequest(
    serverAddress: string,
    method: string,
    durationSeconds: number,
    status: Status,
  ): void {
    this._push(11, serverAddress, method, durationSeconds, status);
  }
  recordHttpClientError(serverAddress: string, method: string, errorType: string): void {
    this._push(12, serverAddress, method, errorType);
  }
}

/** Replays one batch into `target`; malformed entries are skipped. */
export function replayBatch(batch: unknown, target: ApplicationRecorder & HttpClientRecorder): void {
  if (!Array.isArray(batch)) return;
  for (let i = 0; i + STRIDE <= batch.length; i += STRIDE) {
    if (batch[i] === LOST_BATCHES) {
      const lost = Number(batch[i + 1]);
      reportCaught(undefined, LOST_BATCHES_PLACE, `${lost} batch(es) not posted by a worker thread`, lost);
      continue;
    }
    const name: MethodName | undefined = METHODS[batch[i] as number];
    if (name === undefined) continue;
    try {
      (target as unknown as Record<MethodName, (this: typeof target, ...args: unknown[]) => void>)[name].call(
        target,
        batch[i + 1],
        batch[i + 2],
        batch[i + 3],
        batch[i + 4],
      );
    } catch (err) {
      // The target counts bad input itself, so this is a fault of the agent's: counted, and nothing from a
      // worker may break the agent.
      reportCaught(undefined, 'worker metrics replay', err);
    }
  }
}

const RECEIVER_SLOT = Symbol.for('perf-monitor-agent.bridge-receiver');
type ReceiverSlot = { [RECEIVER_SLOT]?: ApplicationBridge };

/**
 * The main thread's end: receives the workers' batches while started. One per process: when several
 * agents run in one process, the first one started receives (the others would count every call again).
 */
export class ApplicationBridge {
  private readonly _target: ApplicationRecorder & HttpClientRecorder;
  private _channel: BroadcastChannel | undefined;
  /** Batches received. */
  batches = 0;

  constructor(target: ApplicationRecorder & HttpClientRecorder) {
    this._target = target;
  }

  start(): Promise<void> {
    const slot = globalThis as ReceiverSlot;
    if (this._channel !== undefined || slot[RECEIVER_SLOT] !== undefined) return Promise.resolve();
    slot[RECEIVER_SLOT] = this;
    const channel = new (nodeWorkerThreads().BroadcastChannel)(BRIDGE_CHANNEL);
    channel.onmessage = guarded(undefined, 'worker metrics receive', (event: unknown) => {
      this.batches++;
      replayBatch((event as { data: unknown }).data, this._target);
    });
    channel.unref();
    this._channel = channel;
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this._channel?.close();
    this._channel = undefined;
    const slot = globalThis as ReceiverSlot;
    if (slot[RECEIVER_SLOT] === this) delete slot[RECEIVER_SLOT];
    return Promise.resolve();
  }
}
