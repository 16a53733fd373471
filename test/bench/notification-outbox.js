/**
 * Cost of the notification side, measured against the alternative design in the same run.
 *
 * 1. Durable outbox: N notifications enqueued and then completed one by one (each a committed, fsynced
 *    write, as the dispatcher does), in our SQLite outbox (WAL, synchronous=FULL) versus the simplest durable
 *    append log (one JSON line appended + fsync per enqueue and per completion; no compaction, no index).
 * 2. Event-loop block of AlertDispatcher.handle() for 1,000 and 10,000 firing alerts in 100 groups (the
 *    steady state: alerts already known), and of one group flush with its outbox transaction.
 *
 *   npm run build && node test/bench/notification-outbox.js      # ≈ 20 s
 */
import console from 'node:console';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  DIST,
  fmt,
  installSafetyNets,
  makeTempDir,
  median,
  printMachine,
  printTable,
  quantile,
} from './common.js';

installSafetyNets(110_000);
printMachine('notification outbox and dispatcher');

const load = (rel) => import(pathToFileURL(path.join(DIST, rel)).href);
const { openNotificationDb } = await load('alerts/notification-store.js');
const { Outbox } = await load('alerts/outbox.js');
const { AlertDispatcher } = await load('alerts/dispatcher.js');
const { SystemClock } = await load('lib/clock.js');
const { silentLogger } = await load('lib/logger.js');

const N = 1000;
const ROUNDS = 2;

function alert(i, group) {
  const labels = { alertname: `rule_${group}`, severity: 'warning', instance: `host-${i}` };
  return {
    fingerprint: `fp-${group}-${i}`,
    labels,
    annotations: { summary: `rule ${group} on host ${i}` },
    state: 'firing',
    value: 91.5,
    activeAtMs: 1_700_000_000_000,
    firedAtMs: 1_700_000_000_000,
  };
}

function batch(i) {
  return {
    groupKey: `{}:{alertname="rule_${i % 10}"}`,
    groupLabels: { alertname: `rule_${i % 10}` },
    status: 'firing',
    alerts: [alert(i, i % 10)],
  };
}

async function sqliteOutbox(dir) {
  const db = await openNotificationDb(path.join(dir, 'outbox.db'));
  const outbox = new Outbox(db, { maxPerChannel: 100_000 });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) outbox.enqueue('webhook', batch(i), i);
  const t1 = performance.now();
  for (const id of outbox.all().map((e) => e.id)) outbox.complete(id);
  const t2 = performance.now();
  db.close();
  return { enqueueUs: ((t1 - t0) * 1000) / N, completeUs: ((t2 - t1) * 1000) / N };
}

async function appendLog(dir) {
  const fd = fs.openSync(path.join(dir, 'outbox.jsonl'), 'a');
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    fs.writeSync(fd, `${JSON.stringify({ op: 'add', id: i, channel: 'webhook', batch: batch(i) })}\n`);
    fs.fsyncSync(fd);
  }
  const t1 = performance.now();
  for (let i = 0; i < N; i++) {
    fs.writeSync(fd, `${JSON.stringify({ op: 'done', id: i })}\n`);
    fs.fsyncSync(fd);
  }
  const t2 = performance.now();
  fs.closeSync(fd);
  return { enqueueUs: ((t1 - t0) * 1000) / N, completeUs: ((t2 - t1) * 1000) / N };
}

const rows = [];
for (let r = 0; r < ROUNDS; r++) {
  const dir = makeTempDir('bench-outbox-');
  const ours = await sqliteOutbox(dir);
  const peer = await appendLog(dir);
  rows.push({ ours, peer });
}
const o = (k) => median(rows.map((x) => x.ours[k]));
const p = (k) => median(rows.map((x) => x.peer[k]));
console.log(`\n## durable outbox, ${N} notifications, µs per operation (median of ${ROUNDS} rounds)\n`);
printTable(
  ['operation', 'SQLite outbox (ours)', 'append log + fsync (peer)', 'ours / peer'],
  [
    ['enqueue', fmt(o('enqueueUs'), 0), fmt(p('enqueueUs'), 0), fmt(o('enqueueUs') / p('enqueueUs'))],
    ['complete', fmt(o('completeUs'), 0), fmt(p('completeUs'), 0), fmt(o('completeUs') / p('completeUs'))],
  ],
);

console.log('\n## AlertDispatcher.handle() and one flush, ms (event-loop block)\n');
const handleRows = [];
for (const count of [1000, 10_000]) {
  const dir = makeTempDir('bench-dispatch-');
  const sent = { n: 0 };
  const d = new AlertDispatcher({
    channels: [{ notifier: { name: 'null', send: async () => void sent.n++, shutdown: async () => {} } }],
    grouping: {
      groupBy: ['alertname'],
      groupWaitMs: 3_600_000,
      groupIntervalMs: 3_600_000,
      repeatIntervalMs: 3_600_000,
    },
    storePath: path.join(dir, 'n.db'),
    maxOutboxPerChannel: 100_000,
    initialBackoffMs: 1000,
    maxBackoffMs: 1000,
    clock: new SystemClock(),
    logger: silentLogger,
  });
  await d.start();
  const alerts = Array.from({ length: count }, (_, i) => alert(i, i % 100));
  const times = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    d.handle({ evaluatedAtMs: Date.now(), alerts });
    times.push(performance.now() - t0);
  }
  // One group's flush: plan, outbox insert and notification log in one fsynced transaction.
  const group = d._groups.values().next().value;
  const t0 = performance.now();
  d._flush(group);
  const flushMs = performance.now() - t0;
  await d.shutdown();
  handleRows.push([
    String(count),
    fmt(median(times.slice(5)), 2),
    fmt(quantile(times.slice(5), 0.9), 2),
    fmt(flushMs, 2),
    String(count / 100),
  ]);
}
printTable(
  ['firing alerts', 'handle p50', 'handle p90', 'one group flush', 'alerts in the group'],
  handleRows,
);
