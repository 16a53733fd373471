/**
 * Who is reporting: the labels put on every exported series and the OpenTelemetry Resource. The labels are
 * the config's `prometheus.default_labels`, plus `agent_instance` (this host's name) and `version` (the
 * agent's version) unless the config sets them. Prometheus overwrites a scraped `instance` label with the
 * target address, so a default label named `instance` is exported as `agent_instance`.
 *
 * In a cluster worker the preload sets PERF_MONITOR_CLUSTER_WORKER (the worker's id) in the agent's
 * environment, and the resource's `service.instance.id` becomes `<agent_instance>/worker-<id>`: every process
 * of a cluster pushes to the same OTLP receiver with the same config, and without an instance of its own their
 * series would be one (each push overwriting the others'). The labels stay as they are: a scrape tells the
 * processes apart by its target.
 */
import type { Attributes } from '@opentelemetry/api';
import type { AgentConfig } from '../config/schema.js';
import type { Env } from '../config/load.js';
import { parseKeyValueList } from '../lib/key-value-list.js';

export interface Identity {
  /** Labels on every Prometheus series; also resource attributes, so they survive an OTLP → Collector path. */
  labels: Readonly<Record<string, string>>;
  /** Resource attributes, OTel semantic conventions plus the labels above. */
  resourceAttributes: Attributes;
  /** Notes for the log: label renames and the like. */
  notes: string[];
}

/** The environment variable the preload sets to the cluster worker's id in a cluster worker's agent. */
export const CLUSTER_WORKER_ENV = 'PERF_MONITOR_CLUSTER_WORKER';

/** A cluster worker id: a positive integer of at most 9 digits (cluster numbers its workers from 1). */
const WORKER_ID = /^[1-9]\d{0,8}$/;

export interface IdentityInputs {
  config: AgentConfig;
  env: Env;
  hostname: string;
  agentVersion: string;
}

export function resolveIdentity({ config, env, hostname, agentVersion }: IdentityInputs): Identity {
  const notes: string[] = [];
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.performance_monitor.prometheus.default_labels)) {
    if (key === 'instance') {
      notes.push(
        'default label "instance" is exported as "agent_instance": Prometheus sets instance itself on every scrape',
      );
      labels.agent_instance = value;
    } else {
      labels[key] = value;
    }
  }
  if (labels.agent_instance === undefined || labels.agent_instance === '') labels.agent_instance = hostname;
  if (labels.version === undefined || labels.version === '') labels.version = agentVersion;

  const worker = env[CLUSTER_WORKER_ENV];
  let instanceId = labels.agent_instance;
  if (worker !== undefined && worker !== '') {
    if (WORKER_ID.test(worker)) instanceId = `${instanceId}/worker-${worker}`;
    else notes.push(`${CLUSTER_WORKER_ENV} ignored: not a cluster worker id`);
  }

  const fromEnv = parseKeyValueList(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName =
    config.performance_monitor.service_name ??
    env.OTEL_SERVICE_NAME ??
    fromEnv['service.name'] ??
    'perf-monitor-agent';
  const resourceAttributes: Attributes = {
    ...fromEnv,
    'service.name': serviceName,
    'service.version': labels.version,
    'service.instance.id': instanceId,
    'host.name': hostname,
    ...labels,
  };
  if (labels.environment !== undefined)
    resourceAttributes['deployment.environment.name'] = labels.environment;
  return { labels, resourceAttributes, notes };
}
