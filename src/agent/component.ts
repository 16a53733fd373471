/**
 * The component contract, after the OpenTelemetry Collector's: every subsystem of the agent (probes and the
 * pipeline, the HTTP endpoint, the rule engine, notifications, trends, the in-app sources) is a Component made
 * by a ComponentFactory. The factory decides from the configuration whether the component exists at all and
 * which slice of the configuration it is built from; the ComponentSet starts components in order, reloads by
 * comparing slices, and stops them in reverse. This is the only place that knows how a reload replaces a part.
 */
import type { CollectionBatch } from '../analysis/collection-reader.js';
import type { AgentConfig } from '../config/schema.js';
import { nodeUtil } from '../lib/builtins.js';
import { errorMessage } from '../lib/errors.js';
import { shutdownAll } from '../lib/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import type { MetricPoint } from '../model/metric.js';
import type { Route } from '../model/route.js';

export interface Component {
  readonly name: string;
  /** Starts the component; on rejection it has nothing left running. */
  start(): Promise<void>;
  /**
   * Takes a new configuration whose slice differs from the running one. `applied`: done in place (the rule
   * engine keeps its alerts); `restart`: the set builds a new component and swaps. Absent: always `restart`.
   */
  reconfigure?(config: AgentConfig): 'applied' | 'restart';
  /** Stops it; safe before start and safe twice. */
  shutdown(): Promise<void>;
  /** The self-metrics it contributes to every collection. */
  selfMetrics?(): Iterable<MetricPoint>;
  /** The HTTP routes it serves on the agent's endpoint. */
  routes?(): readonly Route[];
  /** Receives every collection (the rule engine evaluates, trends record). */
  onCollection?(batch: CollectionBatch): void | Promise<void>;
}

export interface ComponentFactory<C extends Component = Component> {
  readonly name: string;
  /**
   * What the component is built from. A reload that leaves the slice deep-equal leaves the component alone;
   * undefined means the configuration does not enable it (it is not built, and not imported where possible).
   */
  slice(config: AgentConfig): unknown;
  /** Builds the component, importing its module (see factories.ts). */
  create(config: AgentConfig): C | Promise<C>;
  /**
   * How a reload replaces it. `overlap` (default): the new one starts before the old one stops, so a new one
   * that cannot start leaves the old one running. `exclusive`: it owns a resource only one may hold (a port,
   * an outbox, a state file): the old one stops first, and when the new one cannot start one is built again
   * from the previous configuration.
   */
  readonly replace?: 'overlap' | 'exclusive';
  /** A configuration for which even an equal slice means a restart (a TLS endpoint re-reads its certificates). */
  restartOnEveryReload?(config: AgentConfig): boolean;
}

interface Running {
  factory: ComponentFactory;
  component: Component;
  slice: unknown;
  config: AgentConfig;
}

/** Deep equality of two slices: the one comparison every reload decision uses. */
function sameSlice(a: unknown, b: unknown): boolean {
  return nodeUtil().isDeepStrictEqual(a, b);
}

export class ComponentSet {
  private readonly _factories: readonly ComponentFactory[];
  private readonly _running = new Map<string, Running>();
  private readonly _logger: () => Logger;
  private readonly _shutdownTimeoutMs: number;

  constructor(
    factories: readonly ComponentFactory[],
    opts: { logger: () => Logger; shutdownTimeoutMs: number },
  ) {
    this._factories = factories;
    this._logger = opts.logger;
    this._shutdownTimeoutMs = opts.shutdownTimeoutMs;
  }

  /** The running component of a factory, if its configuration enabled it. */
  get<C extends Component>(factory: ComponentFactory<C>): C | undefined {
    return this._running.get(factory.name)?.component as C | undefined;
  }

  /** Running components in start order. */
  components(): Component[] {
    return this._factories.flatMap((f) => {
      const r = this._running.get(f.name);
      return r === undefined ? [] : [r.component];
    });
  }

  /** Starts every component `config` enables, in order; on a failure stops those started and rethrows. */
  async start(config: AgentConfig): Promise<void> {
    for (const f of this._factories) {
      const slice = f.slice(config);
      if (slice === undefined) continue;
      let component: Component | undefined;
      try {
        component = await f.create(config);
        await component.start();
      } catch (err) {
        // A component that failed to start cleans up after itself; shutting it down as well costs nothing.
        await component?.shutdown().catch((e: unknown) =>
          this._logger().warn('shutdown after a failed start incomplete', {
            component: f.name,
            error: errorMessage(e),
          }),
        );
        await this.shutdown().catch((e: unknown) =>
          this._logger().warn('teardown after a failed start incomplete', { error: errorMessage(e) }),
        );
        throw err;
      }
      this._running.set(f.name, { factory: f, component, slice, config });
    }
  }

  /**
   * Brings the running components to `config`, in order: a component whose slice is unchanged stays; one
   * that can take the change in place does; the others are replaced (see ComponentFactory.replace). The first
   * failure stops the reload and rejects: the components before it run on the new configuration, it and those
   * after it on the old one.
   */
  async reload(config: AgentConfig): Promise<void> {
    for (const f of this._factories) await this._reloadOne(f, config);
  }

  private async _reloadOne(f: ComponentFactory, config: AgentConfig): Promise<void> {
    const running = this._running.get(f.name);
    const slice = f.slice(config);
    if (running !== undefined && slice !== undefined) {
      const same = sameSlice(running.slice, slice);
      if (same && f.restartOnEveryReload?.(config) !== true) return;
      if (!same && running.component.reconfigure?.(config) === 'applied') {
        this._running.set(f.name, { ...running, slice, config });
        return;
      }
    }
    if (running === undefined && slice === undefined) return;
    if (f.replace === 'exclusive') {
      this._running.delete(f.name);
      await running?.component.shutdown();
      if (slice === undefined) return;
      try {
        await this._startNew(f, config, slice);
      } catch (err) {
        if (running !== undefined)
          await this._startNew(f, running.config, running.slice).catch((e: unknown) =>
            this._logger().error('component not restored after a failed reload', {
              component: f.name,
              error: errorMessage(e),
            }),
          );
        throw err;
      }
      return;
    }
    if (slice !== undefined) await this._startNew(f, config, slice);
    else this._running.delete(f.name);
    await running?.component.shutdown();
  }

  private async _startNew(f: ComponentFactory, config: AgentConfig, slice: unknown): Promise<void> {
    const component = await f.create(config);
    await component.start();
    this._running.set(f.name, { factory: f, component, slice, config });
  }

  /** Stops every component in reverse start order, each within the time budget; all get their chance. */
  async shutdown(): Promise<void> {
    const parts = this.components();
    this._running.clear();
    await shutdownAll(
      parts.map((c) => ({ name: c.name, shutdown: () => c.shutdown() })),
      this._shutdownTimeoutMs,
      this._logger(),
    );
  }
}
