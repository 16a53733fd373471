/**
 * Diagnostic (not a pass/fail benchmark): what reading the probes' source files costs, by read method.
 * The system probes read every file with fs.promises.readFile (src/probes/system/source.ts); this reads
 * the same set once per pass — the /proc and /sys files the probes open on a Linux host, including the
 * paths they try that do not exist on a VM without cpufreq or cgroup v2 — and compares:
 *
 *   promises: fs.promises.readFile of all files concurrently, with an AbortSignal (what the probes do),
 *   sync:     fs.readFileSync of each file in turn (blocks the loop for the whole pass; its wall time is
 *             that block).
 *
 * Passes alternate, GAP_MS apart (cold, as with a real collection interval); CPU from process.cpuUsage.
 *
 *   node test/bench/read-cost.js
 */
/* global AbortController */
import console from 'node:console';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import {
  fmt,
  installSafetyNets,
  median,
  pinSelf,
  printMachine,
  printTable,
  quantile,
  sleep,
} from './common.js';

const PASSES = 60;
const GAP_MS = 100;

const FILES = [
  '/proc/stat',
  '/proc/cpuinfo',
  '/proc/meminfo',
  '/proc/self/mounts',
  '/proc/diskstats',
  '/proc/net/dev',
  '/proc/self/cgroup',
  '/sys/fs/cgroup/cgroup.controllers',
  ...os.cpus().map((_, i) => `/sys/devices/system/cpu/cpu${i}/cpufreq/scaling_cur_freq`),
];

installSafetyNets(60_000);
printMachine('cost of reading the probe source files');
const selfCpu = pinSelf(0);
console.log(selfCpu === undefined ? 'pinning: none' : `pinning: this process on CPU ${selfCpu}`);
const present = FILES.filter((f) => fs.existsSync(f));
console.log(`${FILES.length} paths per pass, ${present.length} exist: ${FILES.join(' ')}`);

async function viaPromises() {
  const signal = new AbortController().signal;
  await Promise.all(
    FILES.map((f) => fs.promises.readFile(f, { encoding: 'utf8', signal }).catch(() => undefined)),
  );
}

function viaSync() {
  for (const f of FILES) {
    try {
      fs.readFileSync(f, 'utf8');
    } catch {
      // absent: the probes treat ENOENT as "unavailable"
    }
  }
}

const variants = [
  { name: 'fs.promises.readFile, concurrent (the probes today)', fn: viaPromises, cpu: [], wall: [] },
  { name: 'fs.readFileSync, one after another', fn: viaSync, cpu: [], wall: [] },
];
for (const v of variants) for (let i = 0; i < 5; i++) await v.fn();
for (let i = 0; i < PASSES; i++) {
  for (const v of variants) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await v.fn();
    v.wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    v.cpu.push((c.user + c.system) / 1000);
    await sleep(GAP_MS);
  }
}

console.log(`\n## One pass over ${FILES.length} paths, ${PASSES} passes each, ${GAP_MS} ms apart (ms)\n`);
printTable(
  ['method', 'CPU median', 'CPU p10–p90', 'wall median', 'wall max'],
  variants.map((v) => [
    v.name,
    fmt(median(v.cpu), 3),
    `${fmt(quantile(v.cpu, 0.1), 3)}–${fmt(quantile(v.cpu, 0.9), 3)}`,
    fmt(median(v.wall), 3),
    fmt(Math.max(...v.wall), 3),
  ]),
);
console.log(`\nCPU ratio promises / sync: ${fmt(median(variants[0].cpu) / median(variants[1].cpu), 1)}`);
process.exit(0);
