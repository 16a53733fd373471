/**
 * Maintenance windows from the configuration: while one is open, firing alerts it matches are not notified
 * (like a silence that comes back on a schedule). A window is either absolute (`start`/`end` timestamps) or
 * recurring (`days`, `start_time`, `end_time` in a time zone; an end before the start wraps past midnight).
 */
import { AgentError } from '../lib/errors.js';
import { MatcherSet, parseMatcher } from './matchers.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindowConfig {
  name: string;
  /** Only alerts matching all of these; all alerts when absent. */
  matchers?: readonly string[];
  start?: string;
  end?: string;
  days?: readonly Weekday[];
  start_time?: string;
  end_time?: string;
  time_zone?: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight of `HH:MM`, or undefined. */
function parseTimeOfDay(text: string): number | undefined {
  const m = HHMM.exec(text);
  return m === null ? undefined : Number(m[1]) * 60 + Number(m[2]);
}

export class MaintenanceWindow {
  readonly name: string;
  private _last: { atMs: number; open: boolean } | undefined;
  private readonly _set: MatcherSet | undefined;
  private readonly _absolute: { startMs: number; endMs: number } | undefined;
  private readonly _recurring:
    { days: ReadonlySet<number>; startMin: number; endMin: number; format: Intl.DateTimeFormat } | undefined;

  constructor(cfg: MaintenanceWindowConfig) {
    this.name = cfg.name;
    this._set = cfg.matchers === undefined ? undefined : new MatcherSet(cfg.matchers.map(parseMatcher));
    if (cfg.start !== undefined || cfg.end !== undefined) {
      const startMs = Date.parse(cfg.start ?? '');
      const endMs = Date.parse(cfg.end ?? '');
      if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs <= startMs) {
        throw new AgentError('E_CONFIG_INVALID', `maintenance window ${cfg.name}: needs start < end`);
      }
      this._absolute = { startMs, endMs };
    } else {
      const startMin = parseTimeOfDay(cfg.start_time ?? '');
      const endMin = parseTimeOfDay(cfg.end_time ?? '');
      if (startMin === undefined || endMin === undefined) {
        throw new AgentError(
          'E_CONFIG_INVALID',
          `maintenance window ${cfg.name}: needs start_time and end_time`,
        );
      }
      const days = new Set((cfg.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d)));
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone: cfg.time_zone ?? 'UTC',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      this._recurring = { days, startMin, endMin, format };
    }
  }

  /** Whether the window is open at `nowMs` for an alert with these labels. */
  mutes(labels: Readonly<Record<string, string>>, nowMs: number): boolean {
    return this.open(nowMs) && (this._set === undefined || this._set.matches(labels));
  }

  open(nowMs: number): boolean {
    if (this._absolute !== undefined) return nowMs >= this._absolute.startMs && nowMs < this._absolute.endMs;
    // Asked once per alert in a round, with the same time: the time-zone arithmetic is done once.
    if (this._last?.atMs !== nowMs) this._last = { atMs: nowMs, open: this._recurringOpen(nowMs) };
    return this._last.open;
  }

  private _recurringOpen(nowMs: number): boolean {
    const r = this._recurring!;
    const parts = r.format.formatToParts(new Date(nowMs));
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
    const day = WEEKDAYS.indexOf(get('weekday').toLowerCase().slice(0, 3) as Weekday);
    const minute = Number(get('hour')) * 60 + Number(get('minute'));
    if (r.startMin < r.endMin) return r.days.has(day) && minute >= r.startMin && minute < r.endMin;
    // Wraps past midnight: the evening part belongs to `day`, the morning part to the day before.
    return (r.days.has(day) && minute >= r.startMin) || (r.days.has((day + 6) % 7) && minute < r.endMin);
  }
}
