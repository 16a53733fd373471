/**
 * `otlp.naming: semconv`: a collection rewritten with the OpenTelemetry semantic conventions before the OTLP
 * push (catalog/semconv.ts has the mapping). Catalog metrics take their convention's name, unit and attribute
 * names, values are scaled (percent → ratio), updowncounters become non-monotonic sums, and metrics that are
 * parts of one convention (disk reads and writes) are merged into it; the rest go under our namespace. Metrics
 * the configuration declares itself keep their config name. Counters carry no `_total`. The resource keeps
 * only the conventions' attributes for what identity.ts also puts there as Prometheus labels. The Prometheus
 * endpoint is not affected: it reads the collection before this rewrite.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { INT_ATTRIBUTES, RESOURCE_LABEL_ATTRIBUTES, semconvMapping } from '../catalog/semconv.js';
import type { SemconvMapping } from '../catalog/semconv.js';
import { CUMULATIVE, GAUGE_POINTS, SUM_POINTS } from '../model/otel-constants.js';

const DIGITS = /^\d{1,9}$/;

/** The resource attributes under semconv naming: our labels that repeat a convention's attribute dropped. */
export function semconvResourceAttributes(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    const convention = RESOURCE_LABEL_ATTRIBUTES[key];
    if (convention !== undefined && attributes[convention] !== undefined) continue;
    out[key] = value;
  }
  return out;
}

export interface SemconvRenamerOptions {
  /** Config name of an exported instrument name (`multi_agent_system_cpu_percent` → `cpu_percent`). */
  nameOf: (instrumentName: string) => string;
  /** The resource to send for `attributes` (the SDK's, loaded with the exporter). */
  resourceOf: (attributes: Attributes) => Resource;
}

export class SemconvRenamer {
  private readonly _nameOf: (instrumentName: string) => string;
  private readonly _resourceOf: (attributes: Attributes) => Resource;
  private _resource: { from: Resource; to: Resource } | undefined;
  /** Start time of the sums made from gauges (updowncounters): the first collection converted. */
  private _sumStart: HrTime | undefined;

  constructor(opts: SemconvRenamerOptions) {
    this._nameOf = opts.nameOf;
    this._resourceOf = opts.resourceOf;
  }

  convert(rm: ResourceMetrics): ResourceMetrics {
    return {
      resource: this._resourceFor(rm.resource),
      scopeMetrics: rm.scopeMetrics.map((sm) => this._scope(sm)),
    };
  }

  private _resourceFor(resource: Resource): Resource {
    if (this._resource?.from !== resource)
      this._resource = {
        from: resource,
        to: this._resourceOf(semconvResourceAttributes(resource.attributes)),
      };
    return this._resource.to;
  }

  private _scope(sm: ScopeMetrics): ScopeMetrics {
    const byName = new Map<string, MetricData>();
    for (const md of sm.metrics) {
      const config = this._nameOf(md.descriptor.name);
      const mapping = semconvMapping(config);
      const out =
        mapping === undefined
          ? { ...md, descriptor: { ...md.descriptor, name: config } }
          : this._converted(md, mapping);
      const merged = byName.get(out.descriptor.name);
      if (merged === undefined) byName.set(out.descriptor.name, out);
      else if (merged.dataPointType === out.dataPointType)
        byName.set(out.descriptor.name, {
          ...merged,
          dataPoints: [...merged.dataPoints, ...out.dataPoints],
        } as MetricData);
    }
    return { scope: sm.scope, metrics: [...byName.values()] };
  }

  private _converted(md: MetricData, mapping: SemconvMapping): MetricData {
    const descriptor = { ...md.descriptor, name: mapping.name, unit: mapping.unit };
    const attributes = (a: Attributes): Attributes => renameAttributes(a, mapping);
    if (md.dataPointType === GAUGE_POINTS || md.dataPointType === SUM_POINTS) {
      const scale = mapping.scale;
      const dataPoints = md.dataPoints.map((p) => ({
        ...p,
        attributes: attributes(p.attributes),
        value: scale === 1 ? p.value : p.value * scale,
      }));
      if (mapping.instrument === 'updowncounter') {
        const start = (this._sumStart ??= dataPoints[0]?.startTime ?? [0, 0]);
        return {
          descriptor,
          aggregationTemporality: CUMULATIVE,
          dataPointType: SUM_POINTS,
          isMonotonic: false,
          dataPoints: dataPoints.map((p) => ({ ...p, startTime: start })),
        };
      }
      return { ...md, descriptor, dataPoints };
    }
    // Histograms: every mapped histogram is in the convention's unit already (a test checks scale 1).
    return {
      ...md,
      descriptor,
      dataPoints: md.dataPoints.map((p) => ({ ...p, attributes: attributes(p.attributes) })),
    } as MetricData;
  }
}

function renameAttributes(a: Attributes, mapping: SemconvMapping): Attributes {
  const out: Attributes = {};
  for (const [label, value] of Object.entries(a)) {
    const name = mapping.attributes[label] ?? label;
    out[name] = INT_ATTRIBUTES.has(name) ? intValue(value) : value;
  }
  for (const [name, value] of Object.entries(mapping.constant)) out[name] = value;
  return out;
}

function intValue<T>(value: T): T | number {
  return typeof value === 'string' && DIGITS.test(value) ? Number(value) : value;
}
