/**
 * Cost of running patterns from outside on re2js (src/lib/safe-regex.ts) instead of a backtracking RegExp,
 * measured against RegExp in the same run:
 *
 *   A. the system probes' exclude patterns (node_exporter's defaults, as a user would configure them) over a
 *      host's mount points, filesystem types, devices and interfaces, as every collection matches them;
 *   B. silence matchers (anchored) over alert label values, as every evaluation round matches them;
 *   C. a catastrophic pattern, (\w|\w|\w)*!, on a short text for RegExp and a long one for re2js;
 *   D. compiling: one silence with 16 matchers of the largest accepted size.
 *
 *   npm run build && node test/bench/safe-regex.js
 */
import console from 'node:console';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { DIST, fmt, installSafetyNets, median, printTable } from './common.js';

installSafetyNets(120_000);
const { compileSafeRegex } = await import(path.join(DIST, 'lib', 'safe-regex.js'));

const EXCLUDES = [
  {
    what: 'mount points',
    source: String.raw`^/(dev|proc|sys|run/credentials|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`,
    texts: [
      '/',
      '/boot',
      '/boot/efi',
      '/home',
      '/dev',
      '/dev/shm',
      '/proc',
      '/sys/fs/cgroup',
      '/run',
      '/run/user/1000',
      '/run/credentials/systemd-journald.service',
      '/var/lib/docker/overlay2/4f0c1d2e3a/merged',
      '/var/lib/containers/storage/overlay/ab12/merged',
      '/mnt/data',
      '/snap/core22/1380',
    ],
  },
  {
    what: 'filesystem types',
    source: String.raw`^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devfs|devpts|devtmpfs|efivarfs|erofs|fusectl|fuse\.(lxcfs|portal|gvfsd-fuse|snapfuse)|hugetlbfs|iso9660|mqueue|nfsd|nsfs|proc|procfs|pstore|ramfs|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tmpfs|tracefs)$`,
    texts: [
      'ext4',
      'xfs',
      'btrfs',
      'overlay',
      'tmpfs',
      'proc',
      'sysfs',
      'cgroup2',
      'squashfs',
      'fuse.lxcfs',
      'nfs4',
    ],
  },
  {
    what: 'devices',
    source: String.raw`^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`,
    texts: ['sda', 'sda1', 'sda2', 'nvme0n1', 'nvme0n1p1', 'loop0', 'loop7', 'zram0', 'dm-0', 'vda', 'vda1'],
  },
  {
    what: 'interfaces',
    source: String.raw`^(lo|veth.*|docker\d+|br-.*)$`,
    texts: ['lo', 'eth0', 'ens3', 'docker0', 'veth1a2b3c', 'br-12ab34cd', 'wlan0', 'tailscale0'],
  },
];

const MATCHERS = [
  { source: 'web-.*', texts: ['web-1', 'web-frontend-eu-1', 'db-1', 'api-7'] },
  { source: 'db-[0-9]+|cache-[0-9]+', texts: ['db-12', 'cache-3', 'web-1', 'db-x'] },
  {
    source: '(?:high_cpu_usage|high_memory_usage|disk_.*)',
    texts: ['high_cpu_usage', 'disk_full', 'queue_stuck'],
  },
];

/** Median over `rounds` of the ns one call of `fn(text)` takes, cycling through `texts`. */
function nsPerCall(fn, texts, rounds = 15, calls = 40_000) {
  const samples = [];
  let sink = 0;
  for (let r = 0; r < rounds + 2; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) if (fn(texts[i % texts.length])) sink++;
    const ns = ((performance.now() - start) * 1e6) / calls;
    if (r >= 2) samples.push(ns);
  }
  if (sink < 0) console.log(sink);
  return median(samples);
}

function compare(source, texts, anchored) {
  const native = new RegExp(anchored ? `^(?:${source})$` : source);
  const safe = compileSafeRegex(source, { anchored });
  for (const t of texts) {
    if (native.test(t) !== safe.test(t)) throw new Error(`${source} disagrees on ${t}`);
  }
  return { regexp: nsPerCall((t) => native.test(t), texts), safe: nsPerCall((t) => safe.test(t), texts) };
}

console.log(`Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);

console.log('\nA. exclude patterns (unanchored), ns per match');
const aRows = [];
let aRegExp = 0;
let aSafe = 0;
for (const e of EXCLUDES) {
  const r = compare(e.source, e.texts, false);
  aRegExp += r.regexp;
  aSafe += r.safe;
  aRows.push([e.what, fmt(r.regexp, 0), fmt(r.safe, 0), `${fmt(r.safe / r.regexp, 1)}×`]);
}
printTable(['pattern', 'RegExp (peer)', 're2js', 're2js / RegExp'], aRows);

console.log('\nB. silence matchers (anchored), ns per match');
const bRows = [];
let bRegExp = 0;
let bSafe = 0;
for (const m of MATCHERS) {
  const r = compare(m.source, m.texts, true);
  bRegExp += r.regexp;
  bSafe += r.safe;
  bRows.push([m.source, fmt(r.regexp, 0), fmt(r.safe, 0), `${fmt(r.safe / r.regexp, 1)}×`]);
}
printTable(['pattern', 'RegExp (peer)', 're2js', 're2js / RegExp'], bRows);

console.log('\nC. (\\w|\\w|\\w)*! without a match, ms');
const catastrophic = String.raw`(\w|\w|\w)*!`;
const native = new RegExp(`^(?:${catastrophic})$`);
const cRows = [];
for (const n of [14, 16, 18]) {
  const start = performance.now();
  native.test('a'.repeat(n));
  cRows.push([`RegExp, ${n} characters`, fmt(performance.now() - start, 1)]);
}
const safe = compileSafeRegex(catastrophic, { anchored: true });
const longText = 'a'.repeat(100_000);
let start = performance.now();
safe.test(longText);
const safeLongMs = performance.now() - start;
cRows.push(['re2js, 100,000 characters', fmt(safeLongMs, 1)]);
printTable(['engine and text', 'ms'], cRows);
const regexp18Ms = Number(cRows[2][1]);

console.log('\nD. compiling one silence of 16 matchers of the largest accepted size, ms');
const dSamples = [];
for (let r = 0; r < 7; r++) {
  start = performance.now();
  for (let i = 0; i < 16; i++) compileSafeRegex(`${r}-${i}-${'x'.repeat(1000)}`, { anchored: true });
  dSamples.push(performance.now() - start);
}
const compileMs = median(dSamples);
console.log(`median ${fmt(compileMs, 1)} ms`);

console.log('');
console.log(`exclude_ns_per_match_regexp=${fmt(aRegExp / EXCLUDES.length, 0)}`);
console.log(`exclude_ns_per_match_re2js=${fmt(aSafe / EXCLUDES.length, 0)}`);
console.log(`exclude_slowdown=${fmt(aSafe / aRegExp, 1)}`);
console.log(`matcher_ns_per_match_regexp=${fmt(bRegExp / MATCHERS.length, 0)}`);
console.log(`matcher_ns_per_match_re2js=${fmt(bSafe / MATCHERS.length, 0)}`);
console.log(`matcher_slowdown=${fmt(bSafe / bRegExp, 1)}`);
console.log(`catastrophic_regexp_18_chars_ms=${fmt(regexp18Ms, 1)}`);
console.log(`catastrophic_re2js_100000_chars_ms=${fmt(safeLongMs, 1)}`);
console.log(`compile_16_matchers_of_1000_chars_ms=${fmt(compileMs, 1)}`);
process.exit(0);
