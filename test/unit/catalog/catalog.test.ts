import { describe, expect, it } from 'vitest';
import { CATALOG, catalogEntry, catalogGroup } from '../../../src/catalog/catalog.js';
import { instrumentName } from '../../../src/catalog/catalog.js';

const PROM_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** The seed's 42 metrics (its catalog tables), all of which must be declared under their seed names. */
const SEED_NAMES = [
  'cpu_percent',
  'cpu_count',
  'cpu_freq_current',
  'memory_percent',
  'memory_used_bytes',
  'memory_available_bytes',
  'swap_percent',
  'disk_usage_percent',
  'disk_io_read_bytes',
  'disk_io_write_bytes',
  'disk_io_read_count',
  'disk_io_write_count',
  'network_bytes_sent',
  'network_bytes_recv',
  'network_packets_sent',
  'network_packets_recv',
  'network_errors_in',
  'network_errors_out',
  'agent_execution_time',
  'agent_execution_count',
  'agent_error_count',
  'api_request_duration',
  'api_request_count',
  'api_error_count',
  'queue_length',
  'queue_items_processed',
  'queue_processing_time',
  'entities_processed_total',
  'entities_processing_time',
  'cache_hits',
  'cache_misses',
  'cache_size',
  'neo4j_query_duration_p50',
  'neo4j_query_duration_p95',
  'neo4j_query_duration_p99',
  'neo4j_database_size_bytes',
  'neo4j_transactions_active',
  'neo4j_transactions_committed',
  'neo4j_transactions_rolled_back',
  'neo4j_connection_pool_total',
  'neo4j_connection_pool_idle',
  'neo4j_node_count',
  'neo4j_relationship_count',
  'neo4j_label_count',
  'neo4j_relationship_type_count',
];

describe('CATALOG', () => {
  it('should declare every seed metric under its seed name', () => {
    for (const name of SEED_NAMES) expect(catalogEntry(name), name).toBeDefined();
  });

  it('should have unique config names and unique exported names', () => {
    const names = CATALOG.map((e) => e.name);
    const exported = CATALOG.map((e) => e.exportedName);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(exported).size).toBe(exported.length);
  });

  it('should export names that Prometheus accepts and promtool does not flag', () => {
    for (const e of CATALOG) {
      const name = instrumentName('multi_agent_system', e);
      expect(name, e.name).toMatch(PROM_NAME);
      if (e.kind === 'counter') expect(name, e.name).toMatch(/_total$/);
      if (e.kind === 'gauge') {
        // promtool: non-counters must not end in _total; non-histograms must not end in _count/_sum/_bucket.
        expect(name, e.name).not.toMatch(/_(total|count|sum|bucket)$/);
      }
      if (e.kind === 'histogram') expect(name, e.name).not.toMatch(/_(total|count|sum|bucket)$/);
    }
  });

  it('should describe every metric and give it a unit', () => {
    for (const e of CATALOG) {
      expect(e.description.length, e.name).toBeGreaterThan(5);
      expect(e.unit, e.name).not.toBe('');
    }
  });

  it('should give histograms strictly increasing default buckets', () => {
    for (const e of catalogGroup('application').filter((x) => x.kind === 'histogram')) {
      const b = e.buckets ?? [];
      expect(b.length, e.name).toBeGreaterThan(0);
      expect(
        b.every((v, i) => i === 0 || v > b[i - 1]!),
        e.name,
      ).toBe(true);
    }
  });

  it('should rename exactly the seed gauges whose names Prometheus lint rejects', () => {
    const renamed = CATALOG.filter((e) => e.exportedName !== e.name).map((e) => [e.name, e.exportedName]);
    expect(renamed).toEqual([
      ['cpu_count', 'cpu_cores'],
      ['neo4j_connection_pool_total', 'neo4j_connection_pool_size'],
      ['neo4j_node_count', 'neo4j_nodes'],
      ['neo4j_relationship_count', 'neo4j_relationships'],
      ['neo4j_label_count', 'neo4j_label_nodes'],
      ['neo4j_relationship_type_count', 'neo4j_relationship_type_relationships'],
    ]);
  });
});
