import pc from 'picocolors';
import type { ServiceFailure } from '../../deploy/execute.js';
import type { Driver } from '../../runtime/driver.js';

const LOG_LINES = 20;

/** For each failed service, the reason and the last lines its container logged. */
export async function printFailures(driver: Driver, failures: ServiceFailure[], stream: NodeJS.WritableStream = process.stderr): Promise<void> {
  for (const failure of failures) {
    stream.write(`\n${pc.red('✘')} ${failure.message}\n`);
    if (!failure.container) continue;
    const lines: string[] = [];
    try {
      for await (const line of driver.containerLogs(failure.container, { follow: false, tail: LOG_LINES, timestamps: false })) lines.push(line.text);
    } catch {
      // The container may be gone already; the reason above is what matters.
    }
    if (lines.length === 0) continue;
    stream.write(pc.dim(`  last ${lines.length} log lines of ${failure.container}:\n`));
    for (const line of lines) stream.write(`  ${pc.dim('│')} ${line}\n`);
  }
}
