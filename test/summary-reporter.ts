/**
 * Ends a test run with one plain line, `N passed, N failed, N skipped`, that any CI log reader understands.
 * It is written when the process exits, so that it stays the last line even after the coverage table.
 */
import fs from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let tests = 0;
      for (const test of module.children.allTests()) {
        tests++;
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but is a failure.
      if (tests === 0 && module.state() === 'failed') failed++;
    }
    const line = `${passed} passed, ${failed} failed, ${skipped} skipped`;
    process.once('exit', () => {
      fs.writeSync(1, `\n${line}\n`);
    });
  }
}
