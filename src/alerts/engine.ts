/**
 * The rule engine: fed every collection, it keeps the recent history of the exported series, evaluates each
 * enabled rule and runs each alert through Prometheus' state machine (rules/alerting.go):
 *
 * - a result that was not active becomes `pending` with activeAt = now; it fires on the first evaluation
 *   where now − activeAt ≥ for (at once without `for`);
 * - a pending alert whose condition no longer holds is dropped; a firing one resolves, unless
 *   keep_firing_for is set: then it keeps firing while now − (first evaluation without the condition) <
 *   keep_firing_for, with its last value and annotations;
 * - with resolve_threshold (hysteresis, not in Prometheus), an active alert's condition is tested against
 *   resolve_threshold instead of threshold.
 *
 * Each round is handed to the AlertSinks as an EvaluationResult. Pending start times, firing alerts and
 * keep-firing timers are saved to the state file after each round that changed them, and restored on start.
 * A rule that fails at run time is logged once, counted, and left as it was; the other rules go on.
 */
import type { CollectionBatch } from '../analysis/collection-reader.js';
import { seriesKey } from '../model/labels.js';
import type { Labels, Sample, MetricPoint } from '../model/metric.js';
import type { Clock } from '../lib/clock.js';
import { AgentError, errorMessage } from '../lib/errors.js';
import { guardPromise } from '../lib/guard.js';
import type { Logger } from '../lib/logger.js';
import { RuleEvaluator } from './rule-evaluator.js';
import { compare } from './rules.js';
import type { CompiledRule } from './rules.js';
import { LOOKBACK_MS, SampleWindow } from './sample-window.js';
import type { AlertStateStore, PersistedAlert, PersistedState } from './state-store.js';
import { STATE_FILE_VERSION } from './state-store.js';
import { expandTemplate } from './template.js';
import type { Alert, AlertSink, EvaluationResult } from './types.js';

/** An alert as the engine keeps it: the shared Alert fields plus its bookkeeping. */
export interface ActiveAlert extends Omit<Alert, 'fingerprint'> {
  key: string;
  keepFiringSinceMs?: number;
  /** Restored from the state file and not yet seen with data since. */
  restored?: boolean;
  /** Evaluation stamp of the last round whose result held this alert's condition. */
  resultStamp?: number;
  /** Evaluation stamp of the last round that had a value for this alert's series. */
  dataStamp?: number;
  /** Computed from the labels when first needed. */
  fingerprint?: string;
}

interface AlertIdentity {
  labels: Readonly<Record<string, string>>;
  key: string;
}

const NO_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({});

interface RuleRuntime {
  rule: CompiledRule;
  evaluator: RuleEvaluator;
  active: Map<string, ActiveAlert>;
  /** Alert labels and key per output series labels (the series' own, stable, objects). */
  identities: WeakMap<object, AlertIdentity>;
  /** The stamp of the round in which each key was last seen, to find duplicate label sets. */
  lastStamp: Map<string, number>;
  failures: number;
  /** The rule failed in its last evaluation (it is logged once per run of failures). */
  failing: boolean;
  lastError?: string;
  /** The labels of its monitor_rule_evaluation_failures point, made once. */
  failureLabels: Labels;
}

export interface RuleEngineOptions {
  clock: Clock;
  logger: Logger;
  rules: readonly CompiledRule[];
  sinks?: readonly AlertSink[];
  stateStore?: AlertStateStore;
  /** Evaluate at most this often; by default with every collection. */
  evaluationIntervalMs?: number;
}

export interface RuleStatus {
  name: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  failures: number;
  alerts: number;
}

/** An alert as the API and the `alerts` gauge show it. */
export interface AlertView extends Alert {
  rule: string;
  keepFiringSinceMs?: number;
}

export class RuleEngine {
  private readonly _opts: RuleEngineOptions;
  private readonly _store = new SampleWindow();
  /** The metrics the rules read: only their series are kept (memory follows the rules, not the catalog). */
  private _readMetrics: ReadonlySet<string> = new Set();
  private readonly _sinks: AlertSink[];
  private _rules: RuleRuntime[] = [];
  private _firstIngestMs: number | undefined;
  private _lastEvalMs: number | undefined;
  private _lastDurationMs = 0;
  private _evaluations = 0;
  private _stamp = 0;
  private _retentionMs = LOOKBACK_MS;
  private _started = false;
  private _closed = false;
  /** The last state write failed (logged once until a write succeeds again). */
  private _saveFailing = false;

  constructor(opts: RuleEngineOptions) {
    this._opts = opts;
    this._sinks = [...(opts.sinks ?? [])];
    this.setRules(opts.rules);
  }

  /** Restores the saved state (if a state store was given). */
  start(): Promise<void> {
    if (this._started || this._closed) return Promise.resolve();
    this._started = true;
    const saved = this._opts.stateStore?.load();
    if (saved !== undefined) this._restore(saved);
    return Promise.resolve();
  }

  /** Writes the state one last time. Safe before start and twice. */
  async shutdown(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    const store = this._opts.stateStore;
    if (store === undefined || !this._started) return;
    await store.flush();
    // The last round's state is on disk unless that write failed: then try once more.
    if (store.lastError === undefined) return;
    try {
      store.saveSync(this._persisted());
    } catch (err) {
      this._opts.logger.error('cannot write the alert state', { file: store.file, error: errorMessage(err) });
    }
  }

  /** The state file, when the state is persisted. */
  get stateFile(): string | undefined {
    return this._opts.stateStore?.file;
  }

  addSink(sink: AlertSink): void {
    this._sinks.push(sink);
  }

  /** Replaces the rules (a reload); a rule with the same name and expression keeps its alerts. */
  setRules(rules: readonly CompiledRule[]): void {
    const old = new Map(this._rules.map((r) => [r.rule.name, r]));
    const evaluators = new Map<string, RuleEvaluator>();
    this._rules = rules.map((rule) => {
      const prev = old.get(rule.name);
      const keep = prev !== undefined && prev.rule.identity === rule.identity;
      let evaluator = evaluators.get(rule.valueKey);
      if (evaluator === undefined) {
        evaluator = new RuleEvaluator(rule);
        evaluators.set(rule.valueKey, evaluator);
      }
      return {
        rule,
        evaluator,
        active: keep ? prev.active : new Map(),
        identities: new WeakMap(),
        lastStamp: new Map(),
        failures: prev?.failures ?? 0,
        failing: false,
        failureLabels: { rule: rule.name },
      };
    });
    let max = 0;
    for (const r of rules) if (r.rangeMs > max) max = r.rangeMs;
    this._retentionMs = max + LOOKBACK_MS;
    this._readMetrics = new Set(rules.map((r) => r.metric.name));
  }

  get rules(): readonly CompiledRule[] {
    return this._rules.map((r) => r.rule);
  }

  /** The series history (rule tests feed it directly). */
  get store(): SampleWindow {
    return this._store;
  }

  /** A collection subscriber: ingests the batch and evaluates when due. */
  onCollection(batch: CollectionBatch): void {
    if (this._closed) return;
    if (batch.clockStepMs !== undefined && batch.clockStepMs !== 0) this.shiftTime(batch.clockStepMs);
    this.ingest(batch.samples, batch.timestampMs);
    const every = this._opts.evaluationIntervalMs;
    // Collections drift by a few ms; up to a second (or half an interval) of slack keeps the cadence.
    if (
      every !== undefined &&
      this._lastEvalMs !== undefined &&
      batch.timestampMs - this._lastEvalMs < every - Math.min(1000, every / 2)
    )
      return;
    this.evaluate(batch.timestampMs);
  }

  /**
   * The wall clock was stepped by `deltaMs`: moves the history, the pending and firing times and the
   * evaluation cadence with it, so that windows, `for` and `keep_firing_for` measure the time that passed.
   */
  shiftTime(deltaMs: number): void {
    this._store.shiftTimes(deltaMs);
    for (const rt of this._rules) {
      for (const a of rt.active.values()) {
        a.activeAtMs += deltaMs;
        if (a.firedAtMs !== undefined) a.firedAtMs += deltaMs;
        if (a.keepFiringSinceMs !== undefined) a.keepFiringSinceMs += deltaMs;
      }
    }
    if (this._firstIngestMs !== undefined) this._firstIngestMs += deltaMs;
    if (this._lastEvalMs !== undefined) this._lastEvalMs += deltaMs;
    this._save();
  }

  /** Queues a write of the state; logs the first failure of a run of failures, and the recovery. */
  private _save(): void {
    const store = this._opts.stateStore;
    if (store === undefined || !this._started || this._closed) return;
    const saved = store.save(this._persisted()).then(() => {
      const error = store.lastError;
      if (error !== undefined && !this._saveFailing)
        this._opts.logger.error('cannot write the alert state', { file: store.file, error });
      else if (error === undefined && this._saveFailing)
        this._opts.logger.info('the alert state is written again', { file: store.file });
      this._saveFailing = error !== undefined;
    });
    void guardPromise(this._opts.logger, 'alert state save', saved);
  }

  /** Adds a collection to the history and prunes what no rule needs any more. */
  ingest(samples: readonly Sample[], t: number): void {
    this._firstIngestMs ??= t;
    // Only the series of metrics some rule reads: the rest would cost memory for nothing.
    const read = this._readMetrics;
    this._store.ingest(
      samples.filter((s) => read.has(s.metric)),
      t,
    );
    this._store.prune(t - this.retentionMs());
  }

  /** How much history the rules need: the longest window plus the lookback of an instant selector. */
  retentionMs(): number {
    return this._retentionMs;
  }

  /** Evaluates every rule at `t`; hands the result to the sinks and returns it. */
  evaluate(t: number): EvaluationResult {
    const started = this._opts.clock.monotonicMs();
    this._firstIngestMs ??= t;
    const alerts: Alert[] = [];
    let changed = false;
    for (let i = 0; i < this._rules.length; i++) {
      const rt = this._rules[i]!;
      try {
        changed = this._evaluateRule(rt, t, alerts) || changed;
        if (rt.failing) this._opts.logger.info('alert rule evaluates again', { rule: rt.rule.name });
        rt.failing = false;
        rt.lastError = undefined;
      } catch (err) {
        rt.failures++;
        rt.lastError = errorMessage(err);
        if (!rt.failing)
          this._opts.logger.error('alert rule cannot be evaluated', {
            rule: rt.rule.name,
            error: rt.lastError,
          });
        rt.failing = true;
        for (const a of rt.active.values()) if (a.state !== 'inactive') alerts.push(toAlert(a));
      }
    }
    this._evaluations++;
    this._lastEvalMs = t;
    const result: EvaluationResult = { evaluatedAtMs: t, alerts };
    for (const sink of this._sinks) {
      try {
        sink.handle(result);
      } catch (err) {
        this._opts.logger.error('alert sink failed', { error: errorMessage(err) });
      }
    }
    // After a failed write (a full disk) every round tries again until the state is on disk.
    if (changed || this._saveFailing) this._save();
    this._lastDurationMs = this._opts.clock.monotonicMs() - started;
    return result;
  }

  /** Runs one rule through the state machine; returns whether anything worth saving changed. */
  private _evaluateRule(rt: RuleRuntime, t: number, out: Alert[]): boolean {
    const rule = rt.rule;
    const values = rt.evaluator.evaluate(this._store, t);
    const stamp = ++this._stamp;
    const n = values.length;
    if (rt.lastStamp.size > 2 * n + 64) rt.lastStamp.clear();
    // First the check that can fail the rule, so that a failing rule changes nothing (as in Prometheus).
    for (let i = 0; i < n; i++) {
      const id = this._identity(rt, values.labels[i]!);
      if (rt.lastStamp.get(id.key) === stamp)
        throw new AgentError(
          'E_RULE_EVAL',
          'several series have the same labels once alertname and severity are set',
        );
      rt.lastStamp.set(id.key, stamp);
    }
    let changed = false;
    for (let i = 0; i < n; i++) {
      const id = this._identity(rt, values.labels[i]!);
      const value = values.values[i]!;
      const a = rt.active.get(id.key);
      if (a !== undefined) a.dataStamp = stamp;
      const active = a !== undefined && a.state !== 'inactive';
      const threshold =
        active && rule.resolveThreshold !== undefined ? rule.resolveThreshold : rule.threshold;
      if (!compare(rule.condition, value, threshold)) continue;
      const annotations =
        rule.annotations.length === 0 ? NO_ANNOTATIONS : expandAnnotations(rule, id.labels, value);
      if (active) {
        a.value = value;
        a.annotations = annotations;
        a.resultStamp = stamp;
        if (a.restored === true) a.restored = false;
        continue;
      }
      rt.active.set(id.key, {
        key: id.key,
        labels: id.labels,
        annotations,
        state: 'pending',
        value,
        activeAtMs: t,
        resultStamp: stamp,
        dataStamp: stamp,
      });
      changed = true;
    }

    const warmingUp = t - (this._firstIngestMs ?? t) < rule.rangeMs;
    for (const [key, a] of rt.active) {
      if (a.resultStamp !== stamp) {
        // Restored before the window had data again: hold it as it was until the data can decide.
        if (a.restored === true && a.dataStamp !== stamp && warmingUp) {
          out.push(toAlert(a));
          continue;
        }
        a.restored = false;
        let keepFiring = false;
        if (a.state === 'firing' && rule.keepFiringForMs > 0) {
          if (a.keepFiringSinceMs === undefined) {
            a.keepFiringSinceMs = t;
            changed = true;
          }
          if (t - a.keepFiringSinceMs < rule.keepFiringForMs) keepFiring = true;
        }
        if (!keepFiring) {
          rt.active.delete(key);
          changed = true;
          if (a.state === 'firing') {
            a.state = 'inactive';
            a.resolvedAtMs = t;
            out.push(toAlert(a));
          }
          continue;
        }
      } else if (a.keepFiringSinceMs !== undefined) {
        a.keepFiringSinceMs = undefined;
        changed = true;
      }
      if (a.state === 'pending' && t - a.activeAtMs >= rule.forMs) {
        a.state = 'firing';
        a.firedAtMs = t;
        changed = true;
      }
      out.push(toAlert(a));
    }
    return changed;
  }

  /** The alert labels and key of an output series for a rule, computed once per series. */
  private _identity(rt: RuleRuntime, labels: Readonly<Record<string, string>>): AlertIdentity {
    let id = rt.identities.get(labels);
    if (id === undefined) {
      const alertLabels = { ...labels, severity: rt.rule.severity, alertname: rt.rule.name };
      id = { labels: alertLabels, key: seriesKey('', alertLabels) };
      rt.identities.set(labels, id);
    }
    return id;
  }

  /** Pending and firing alerts, by rule. */
  activeAlerts(): AlertView[] {
    const out: AlertView[] = [];
    for (const rt of this._rules) {
      for (const a of rt.active.values()) {
        if (a.state === 'inactive') continue;
        out.push({ ...toAlert(a), rule: rt.rule.name, keepFiringSinceMs: a.keepFiringSinceMs });
      }
    }
    return out;
  }

  ruleStatuses(): RuleStatus[] {
    return this._rules.map((rt) => ({
      name: rt.rule.name,
      health: this._evaluations === 0 ? 'unknown' : rt.failing ? 'err' : 'ok',
      lastError: rt.lastError,
      failures: rt.failures,
      alerts: [...rt.active.values()].filter((a) => a.state !== 'inactive').length,
    }));
  }

  /** The `alerts` gauge (Prometheus' ALERTS) and the rule self-metrics, for the next collection. */
  points(): MetricPoint[] {
    // An array and indexed loops, not a generator: under --lite-mode each step of one allocates.
    const out: MetricPoint[] = [];
    for (let i = 0; i < this._rules.length; i++) {
      const rt = this._rules[i]!;
      rt.active.forEach((a) => {
        if (a.state !== 'inactive')
          out.push({ metric: 'alerts', labels: { ...a.labels, alertstate: a.state }, value: 1 });
      });
      out.push({ metric: 'monitor_rule_evaluation_failures', labels: rt.failureLabels, value: rt.failures });
    }
    if (this._evaluations > 0)
      out.push({
        metric: 'monitor_rule_evaluation_duration_seconds',
        labels: {},
        value: this._lastDurationMs / 1000,
      });
    return out;
  }

  get lastEvaluationMs(): number | undefined {
    return this._lastEvalMs;
  }

  get lastDurationMs(): number {
    return this._lastDurationMs;
  }

  private _persisted(): PersistedState {
    return {
      version: STATE_FILE_VERSION,
      savedAtMs: this._opts.clock.nowMs(),
      rules: this._rules.map((rt) => ({
        name: rt.rule.name,
        identity: rt.rule.identity,
        alerts: [...rt.active.values()]
          .filter((a) => a.state !== 'inactive')
          .map((a): PersistedAlert => ({
            labels: { ...a.labels },
            annotations: { ...a.annotations },
            state: a.state as 'pending' | 'firing',
            value: Number.isFinite(a.value) ? a.value : null,
            activeAtMs: a.activeAtMs,
            ...(a.firedAtMs === undefined ? {} : { firedAtMs: a.firedAtMs }),
            ...(a.keepFiringSinceMs === undefined ? {} : { keepFiringSinceMs: a.keepFiringSinceMs }),
          })),
      })),
    };
  }

  private _restore(saved: PersistedState): void {
    let restored = 0;
    let dropped = 0;
    const byName = new Map(saved.rules.map((r) => [r.name, r]));
    for (const rt of this._rules) {
      const r = byName.get(rt.rule.name);
      if (r === undefined) continue;
      if (r.identity !== rt.rule.identity) {
        dropped += r.alerts.length;
        continue;
      }
      for (const p of r.alerts) {
        const labels = { ...p.labels };
        const key = seriesKey('', labels);
        rt.active.set(key, {
          key,
          labels,
          annotations: { ...p.annotations },
          state: p.state,
          value: p.value ?? NaN,
          activeAtMs: p.activeAtMs,
          firedAtMs: p.firedAtMs,
          keepFiringSinceMs: p.keepFiringSinceMs,
          restored: true,
        });
        restored++;
      }
    }
    this._opts.logger.info('alert state restored', {
      file: this._opts.stateStore?.file,
      alerts: restored,
      droppedChangedRules: dropped,
      savedAt: new Date(saved.savedAtMs).toISOString(),
    });
  }
}

function expandAnnotations(
  rule: CompiledRule,
  labels: Readonly<Record<string, string>>,
  value: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of rule.annotations) out[k] = expandTemplate(t, labels, value);
  return out;
}

function toAlert(a: ActiveAlert): Alert {
  a.fingerprint ??= fingerprint(a.labels);
  // One object shape for every alert (optional times left undefined) keeps this cheap per round.
  return {
    fingerprint: a.fingerprint,
    labels: a.labels,
    annotations: a.annotations,
    state: a.state,
    value: a.value,
    activeAtMs: a.activeAtMs,
    firedAtMs: a.firedAtMs,
    resolvedAtMs: a.resolvedAtMs,
  };
}

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const MASK64 = (1n << 64n) - 1n;

/** Alertmanager's fingerprint of a label set: FNV-1a 64 over sorted name, 0xff, value, 0xff; 16 hex digits. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  let h = FNV_OFFSET;
  const add = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
  };
  const sep = new Uint8Array([0xff]);
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add(sep);
    add(enc.encode(labels[name]));
    add(sep);
  }
  return h.toString(16).padStart(16, '0');
}
