/**
 * Memory and swap use from /proc/meminfo.
 */
import { AgentError } from '../../lib/errors.js';
import { meminfoField, parseMeminfo } from '../proc-fields.js';
import type { ProbeContext, Snapshot } from '../probe.js';
import { SyncSystemProbe } from './source.js';

export { parseMeminfo };

export class MemoryProbe extends SyncSystemProbe {
  constructor(ctx: ProbeContext) {
    super('memory', ctx);
  }

  protected _collect(): Snapshot {
    const file = this._procPath('meminfo');
    const text = this._files.read(file);
    if (text === undefined) return this._unavailable.unavailable(`${file} does not exist`);
    this._unavailable.available();
    const field = (key: string): number | undefined => meminfoField(text, key);
    const total = field('MemTotal');
    if (total === undefined || total <= 0) {
      throw new AgentError('E_PROBE_READ', `${file} has no MemTotal`);
    }
    // MemAvailable exists since Linux 3.14; before that, free + buffers + page cache is the usual estimate.
    const available =
      field('MemAvailable') ?? (field('MemFree') ?? 0) + (field('Buffers') ?? 0) + (field('Cached') ?? 0);
    const used = Math.max(0, total - available);
    const swapTotal = field('SwapTotal') ?? 0;
    const swapFree = field('SwapFree') ?? 0;
    const swapPercent = swapTotal > 0 ? ((swapTotal - swapFree) / swapTotal) * 100 : 0;

    return {
      status: 'ok',
      points: [
        { metric: 'memory_available_bytes', labels: {}, value: available },
        { metric: 'memory_used_bytes', labels: {}, value: used },
        { metric: 'memory_percent', labels: {}, value: (used / total) * 100 },
        { metric: 'swap_percent', labels: {}, value: swapPercent },
      ],
    };
  }
}
