import { describe, expect, it } from 'vitest';
import { MaintenanceWindow } from '../../../src/alerts/maintenance.js';

const at = (iso: string): number => Date.parse(iso);

describe('MaintenanceWindow', () => {
  it('should be open between an absolute start and end, end excluded', () => {
    const w = new MaintenanceWindow({
      name: 'upgrade',
      start: '2026-12-01T00:00:00Z',
      end: '2026-12-01T04:00:00Z',
    });
    expect(w.open(at('2026-11-30T23:59:59Z'))).toBe(false);
    expect(w.open(at('2026-12-01T00:00:00Z'))).toBe(true);
    expect(w.open(at('2026-12-01T04:00:00Z'))).toBe(false);
  });

  it('should open on the listed weekdays only, in its time zone', () => {
    const w = new MaintenanceWindow({
      name: 'backup',
      days: ['sat'],
      start_time: '02:00',
      end_time: '03:00',
      time_zone: 'Europe/Berlin',
    });
    // 2026-01-03 is a Saturday; Berlin is UTC+1 in January.
    expect(w.open(at('2026-01-03T01:30:00Z'))).toBe(true);
    expect(w.open(at('2026-01-03T02:30:00Z'))).toBe(false);
    expect(w.open(at('2026-01-04T01:30:00Z'))).toBe(false);
  });

  it('should wrap past midnight, the morning part belonging to the day before', () => {
    const w = new MaintenanceWindow({ name: 'night', days: ['fri'], start_time: '22:00', end_time: '02:00' });
    expect(w.open(at('2026-01-02T23:00:00Z'))).toBe(true); // Friday night
    expect(w.open(at('2026-01-03T01:59:00Z'))).toBe(true); // Saturday morning
    expect(w.open(at('2026-01-03T23:00:00Z'))).toBe(false); // Saturday night
    expect(w.open(at('2026-01-02T01:00:00Z'))).toBe(false); // Friday morning (Thursday's night)
  });

  it('should mute only alerts its matchers select', () => {
    const w = new MaintenanceWindow({
      name: 'all-day',
      start_time: '00:00',
      end_time: '00:00',
      matchers: ['severity="warning"'],
    });
    expect(w.mutes({ severity: 'warning' }, at('2026-01-01T12:00:00Z'))).toBe(true);
    expect(w.mutes({ severity: 'critical' }, at('2026-01-01T12:00:00Z'))).toBe(false);
  });
});
