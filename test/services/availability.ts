/**
 * Run-or-skip policy for integration suites that need a real server.
 *
 * - Service available: the suite runs.
 * - Unavailable and `CI=true` (or `PERF_MONITOR_REQUIRE_SERVICES=1`): the suite FAILS, with one failing
 *   test named after the missing service and the reason; its real tests are listed as skipped.
 * - Unavailable otherwise (a developer machine): the suite is skipped, with a loud console.warn banner
 *   `SKIPPED: <name> integration tests: <reason>`.
 *
 * ```ts
 * const prom = await prometheusAvailable();
 * describeService('Prometheus', prom, () => {
 *   it('should …', async () => { … });
 * });
 * ```
 */
import { describe, it } from 'vitest';
import { describeError } from './process.js';

export type Availability = { ok: true } | { ok: false; reason: string };

export type GateDecision = 'run' | 'skip' | 'fail';

/** Whether missing services must fail the run: `CI=true` or `PERF_MONITOR_REQUIRE_SERVICES=1`. */
export function servicesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.PERF_MONITOR_REQUIRE_SERVICES === '1';
}

/** The policy as a pure function (exported for unit tests). */
export function gateDecision(availability: Availability, env: NodeJS.ProcessEnv = process.env): GateDecision {
  if (availability.ok) return 'run';
  return servicesRequired(env) ? 'fail' : 'skip';
}

/** The banner printed when a suite is skipped. */
export function skipBanner(name: string, reason: string): string {
  const line = `SKIPPED: ${name} integration tests: ${reason}`;
  const rule = '!'.repeat(Math.min(Math.max(line.length, 40), 120));
  return `\n${rule}\n${line}\n(set CI=true or PERF_MONITOR_REQUIRE_SERVICES=1 to make this a failure)\n${rule}\n`;
}

/** Every service must be available; the reasons of all that are not are joined. */
export function allAvailable(...results: readonly Availability[]): Availability {
  const reasons = results.flatMap((r) => (r.ok ? [] : [r.reason]));
  return reasons.length === 0 ? { ok: true } : { ok: false, reason: reasons.join('; ') };
}

/** Runs an availability check, turning a thrown error into `{ ok: false }`. */
export async function checkAvailability(check: () => Promise<Availability>): Promise<Availability> {
  try {
    return await check();
  } catch (err) {
    return { ok: false, reason: `availability check threw: ${describeError(err)}` };
  }
}

/**
 * `describe(title ?? name, factory)` when the service is available; otherwise a failing test (CI) or a
 * skipped suite with a warning banner (local). Call at the top level of a test file.
 */
export function describeService(
  name: string,
  availability: Availability,
  factory: () => void,
  title: string = `${name} (real server)`,
): void {
  if (availability.ok) {
    describe(title, factory);
    return;
  }
  const { reason } = availability;
  if (gateDecision(availability) === 'fail') {
    describe(title, () => {
      it(`${name} is available (required: CI=true or PERF_MONITOR_REQUIRE_SERVICES=1)`, () => {
        throw new Error(`${name} is not available: ${reason}`);
      });
      describe.skip(`tests that need ${name}`, factory);
    });
    return;
  }
  console.warn(skipBanner(name, reason));
  describe.skip(`${title}: SKIPPED, ${name} unavailable: ${reason}`, factory);
}

export interface ServiceGate {
  readonly name: string;
  readonly availability: Availability;
  readonly available: boolean;
  /** {@link describeService} for this service; `title` defaults to `<name> (real server)`. */
  describe(title: string, factory: () => void): void;
  describe(factory: () => void): void;
}

/**
 * Checks a service once and returns a gate for its suites:
 *
 * ```ts
 * const collector = await serviceGate('OpenTelemetry Collector', collectorBinary);
 * collector.describe('OTLP to Prometheus exporter', () => { … });
 * ```
 */
export async function serviceGate(name: string, check: () => Promise<Availability>): Promise<ServiceGate> {
  const availability = await checkAvailability(check);
  function gatedDescribe(titleOrFactory: string | (() => void), maybeFactory?: () => void): void {
    if (typeof titleOrFactory === 'function') {
      describeService(name, availability, titleOrFactory);
    } else {
      describeService(name, availability, maybeFactory ?? (() => undefined), titleOrFactory);
    }
  }
  return { name, availability, available: availability.ok, describe: gatedDescribe };
}
