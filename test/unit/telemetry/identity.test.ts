import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/agent/load-config.js';
import { resolveIdentity } from '../../../src/telemetry/identity.js';

function identity(yaml: string, env: Record<string, string> = {}) {
  return resolveIdentity({
    config: parseConfigText(yaml, 't.yaml', {}),
    env,
    hostname: 'host-a',
    agentVersion: '1.2.3',
  });
}

describe('resolveIdentity', () => {
  it('should add agent_instance and version when the config does not set them', () => {
    const id = identity('performance_monitor: { prometheus: { default_labels: { environment: prod } } }');
    expect(id.labels).toEqual({ environment: 'prod', agent_instance: 'host-a', version: '1.2.3' });
    expect(id.resourceAttributes).toMatchObject({
      'service.name': 'perf-monitor-agent',
      'service.version': '1.2.3',
      'service.instance.id': 'host-a',
      'deployment.environment.name': 'prod',
      'host.name': 'host-a',
      environment: 'prod',
    });
  });

  it('should export a label named instance as agent_instance and say so', () => {
    const id = identity(
      'performance_monitor: { prometheus: { default_labels: { instance: server-1, version: 9.9.9 } } }',
    );
    expect(id.labels).toEqual({ agent_instance: 'server-1', version: '9.9.9' });
    expect(id.notes.join(' ')).toContain('agent_instance');
    expect('instance' in id.labels).toBe(false);
  });

  it('should take the service name from the config, then OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(
      identity('performance_monitor: { service_name: billing }', { OTEL_SERVICE_NAME: 'x' })
        .resourceAttributes['service.name'],
    ).toBe('billing');
    expect(
      identity('{}', { OTEL_SERVICE_NAME: 'orders', OTEL_RESOURCE_ATTRIBUTES: 'service.name=y' })
        .resourceAttributes['service.name'],
    ).toBe('orders');
    const id = identity('{}', { OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart,team=payments%20core' });
    expect(id.resourceAttributes['service.name']).toBe('cart');
    expect(id.resourceAttributes.team).toBe('payments core');
  });

  it("should give a cluster worker's resource an instance of its own and leave its labels alone", () => {
    const worker = identity('performance_monitor: { prometheus: { default_labels: { instance: web } } }', {
      PERF_MONITOR_CLUSTER_WORKER: '2',
    });
    expect(worker.resourceAttributes['service.instance.id']).toBe('web/worker-2');
    expect(worker.labels.agent_instance).toBe('web');
    expect(worker.resourceAttributes.agent_instance).toBe('web');
    expect(
      identity('{}', { PERF_MONITOR_CLUSTER_WORKER: '1' }).resourceAttributes['service.instance.id'],
    ).toBe('host-a/worker-1');
  });

  it('should ignore a cluster worker id that is not a positive integer, and say so', () => {
    for (const bad of ['0', '-1', '1.5', 'x', '1234567890', ' 1']) {
      const id = identity('{}', { PERF_MONITOR_CLUSTER_WORKER: bad });
      expect(id.resourceAttributes['service.instance.id'], bad).toBe('host-a');
      expect(id.notes.join(' '), bad).toContain('PERF_MONITOR_CLUSTER_WORKER ignored');
    }
    expect(identity('{}', { PERF_MONITOR_CLUSTER_WORKER: '' }).notes).toEqual([]);
  });
});
