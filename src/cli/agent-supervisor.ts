/**
 * `flotilla serve` runs the agent as a child process of its own, so that its CPU and its crashes
 * stay apart from the collector's, and starts it again when it stops unasked: with the Engine down
 * at start-up, or after a crash, logs are shipped again as soon as it can, never "until a restart".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface AgentSupervisorOptions {
  endpoint: string;
  stateDir: string;
  json: boolean;
  /** One line of the agent's output, or of the supervisor's own news. */
  print: (line: string, fromAgent: boolean) => void;
}

export interface AgentSupervisor {
  readonly restarts: number;
  /** Stops the agent (SIGTERM, then SIGKILL after 10 s) and does not start it again. */
  stop(): Promise<void>;
}

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
/** An agent that ran this long before stopping starts again without delay growth. */
const HEALTHY_RUN_MS = 60_000;

export function superviseAgent(options: AgentSupervisorOptions): AgentSupervisor {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let delay = FIRST_DELAY_MS;
  let timer: NodeJS.Timeout | undefined;

  const start = (): void => {
    const startedAt = Date.now();
    const cli = process.argv[1] ?? '';
    const current = spawn(process.execPath, [cli, 'agent', '--endpoint', options.endpoint, '--state-dir', options.stateDir, ...(options.json ? ['--output', 'json'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = current;
    for (const stream of [current.stdout, current.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => options.print(line, true));
    }
    current.on('exit', (code, signal) => {
      child = undefined;
      if (stopping) return;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) delay = FIRST_DELAY_MS;
      restarts += 1;
      options.print(`the agent stopped (${signal ?? `exit code ${code}`}); starting it again in ${delay / 1000} s (restart ${restarts})`, false);
      timer = setTimeout(start, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
  };
  start();

  return {
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const kill = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}
