import { describe, expect, it } from 'vitest';
import { PrometheusHistory } from '../../../src/trends/prometheus-history.js';

function fakeFetch(answer: unknown, seen: string[]): typeof fetch {
  return ((url: string) => {
    seen.push(url);
    return Promise.resolve(new Response(JSON.stringify(answer), { status: 200 }));
  }) as typeof fetch;
}

describe('PrometheusHistory', () => {
  it('should read a day or less as raw samples through a range selector at the window end', async () => {
    const seen: string[] = [];
    const answer = {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: {
              __name__: 'multi_agent_system_network_bytes_recv_total',
              interface: 'eth0',
              instance: 'a:9091',
            },
            values: [
              [1000, '10'],
              [1001, '15'],
              [1002, '3'],
            ],
          },
        ],
      },
    };
    const h = new PrometheusHistory({
      url: 'http://127.0.0.1:9090/',
      prefix: 'multi_agent_system',
      timeoutMs: 1000,
      fetch: fakeFetch(answer, seen),
    });
    const [w] = await h.query('network_bytes_recv', { interface: 'eth0' }, 1_000_000, 1_003_000);
    const q = new URL(seen[0]!);
    expect(q.pathname).toBe('/api/v1/query');
    expect(q.searchParams.get('query')).toBe(
      'multi_agent_system_network_bytes_recv_total{interface="eth0"}[3s]',
    );
    expect(q.searchParams.get('time')).toBe('1003');
    expect(w!.kind).toBe('counter');
    expect(w!.labels).toEqual({ interface: 'eth0', instance: 'a:9091' });
    expect(Array.from(w!.t)).toEqual([1_000_000, 1_001_000, 1_002_000]);
    expect(Array.from(w!.v)).toEqual([10, 15, 3]);
  });

  it('should use query_range with a 1-hour step beyond 7 days, and escape label values', async () => {
    const seen: string[] = [];
    const h = new PrometheusHistory({
      url: 'http://127.0.0.1:9090',
      prefix: 'p',
      timeoutMs: 1000,
      fetch: fakeFetch({ status: 'success', data: { resultType: 'matrix', result: [] } }, seen),
    });
    expect(await h.query('cpu_percent', { job: 'a"b' }, 0, 10 * 86_400_000)).toEqual([]);
    const q = new URL(seen[0]!);
    expect(q.pathname).toBe('/api/v1/query_range');
    expect(q.searchParams.get('step')).toBe('3600s');
    expect(q.searchParams.get('query')).toBe('p_cpu_percent{job="a\\"b"}');
  });

  it('should fail with E_HISTORY_QUERY and no credentials in the message', async () => {
    const failing = (() => Promise.reject(new Error('connect ECONNREFUSED'))) as typeof fetch;
    const h = new PrometheusHistory({
      url: 'http://user:s3cret@127.0.0.1:1',
      prefix: 'p',
      timeoutMs: 100,
      fetch: failing,
    });
    const err = (await h.query('cpu_percent', {}, 0, 1000).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code: string };
    expect(err.code).toBe('E_HISTORY_QUERY');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('s3cret');
    const bad = new PrometheusHistory({
      url: 'http://127.0.0.1:1',
      prefix: 'p',
      timeoutMs: 100,
      fetch: fakeFetch({ status: 'error', error: 'parse error at char 3' }, []),
    });
    await expect(bad.query('cpu_percent', {}, 0, 1000)).rejects.toThrow(/parse error at char 3/);
  });

  it.each([
    ['a metric that is PromQL', 'cpu_percent{job=~".+"} or vector(1)', {}],
    ['a label name that is PromQL', 'cpu_percent', { 'a="1"} or up{b': 'x' }],
  ])('should refuse %s with E_USAGE and never ask Prometheus', async (_what, metric, labels) => {
    const seen: string[] = [];
    const h = new PrometheusHistory({
      url: 'http://127.0.0.1:9090',
      prefix: 'p',
      timeoutMs: 1000,
      fetch: fakeFetch({ status: 'success', data: { resultType: 'matrix', result: [] } }, seen),
    });
    await expect(h.query(metric, labels, 0, 1000)).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(seen).toEqual([]);
  });

  it('should not follow a redirect to another origin', async () => {
    const seen: string[] = [];
    const redirecting = ((url: string) => {
      seen.push(url);
      return Promise.resolve(
        new Response(null, {
          status: 302,
          headers: { Location: 'http://elsewhere.example:9090/api/v1/query' },
        }),
      );
    }) as typeof fetch;
    const h = new PrometheusHistory({
      url: 'http://127.0.0.1:9090',
      prefix: 'p',
      timeoutMs: 1000,
      fetch: redirecting,
    });
    const err = (await h.query('cpu_percent', {}, 0, 1000).catch((e: unknown) => e)) as Error & {
      code: string;
    };
    expect(err.code).toBe('E_HISTORY_QUERY');
    expect(err.message).toContain('a redirect to http://elsewhere.example:9090/api/v1/query: not followed');
    expect(seen).toHaveLength(1);
  });
});
