/**
 * The agent against the real Docker Engine, run as a user runs it (`flotilla agent`, a child
 * process), shipping to a collector in this test that decodes with the collector's own decoder.
 * Containers print numbered lines; every number must arrive at least once, whatever happens to
 * the collector or the agent. Everything created carries the run's label and is removed by it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { Label } from '../../src/runtime/labels.js';
import { startTestCollector, type TestCollector } from '../unit/agent/test-collector.js';
import { removeByLabel, testLabels, testRunId } from './helpers/cleanup.js';
import { cliEnv, eventually, startCli, type CliResult } from './helpers/cli.js';

const docker = new Docker();
const IMAGE = 'debian:bookworm-slim';
const dirs: string[] = [];
/** Agents still running when a test fails: killed (by pid, ours only) in afterAll. */
const agents = new Set<ReturnType<typeof startCli>>();
const collectors: TestCollector[] = [];

afterAll(async () => {
  for (const agent of agents) agent.child.kill('SIGKILL');
  for (const collector of collectors) await collector.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await removeByLabel(testRunId);
});

/** A project name of this run, unique per test, so each agent follows only its test's containers. */
function projectName(test: string): string {
  return `agent-${test}-${testRunId}`;
}

/** Creates and starts a container of `project` running `script` under sh; returns its id. */
async function runContainer(project: string, service: string, script: string): Promise<string> {
  const container = await docker.createContainer({
    Image: IMAGE,
    name: `${project}-${service}`,
    Cmd: ['sh', '-c', script],
    Labels: { ...testLabels(), [Label.project]: project, [Label.service]: service },
    HostConfig: { Init: true },
  });
  await container.start();
  return container.id;
}

/** `count` numbered lines `<prefix>-<n>`, the odd ones on stdout and the even ones on stderr, `pause` seconds apart; then it idles. */
function numberedScript(prefix: string, count: number, pause = '0'): string {
  return `i=1; while [ $i -le ${count} ]; do if [ $((i % 2)) -eq 0 ]; then echo "${prefix}-$i" >&2; else echo "${prefix}-$i"; fi; i=$((i+1)); [ "${pause}" = 0 ] || sleep ${pause}; done; exec sleep infinity`;
}

/** A running `flotilla agent`, with what it printed on stdout so far. */
type RunningAgent = ReturnType<typeof startCli> & { printed: () => Record<string, unknown>[] };

function startAgent(collector: TestCollector, stateDir: string, project: string): RunningAgent {
  const cli = startCli(['agent', '--endpoint', collector.url, '--state-dir', stateDir, '--project', project, '--output', 'json'], {
    cwd: stateDir,
    env: cliEnv(testRunId),
  });
  let stdout = '';
  cli.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  agents.add(cli);
  void cli.done.then(() => agents.delete(cli));
  return { ...cli, printed: () => jsonLines(stdout) };
}

/** Stops an agent with SIGTERM and returns its final stats line. */
async function stopAgent(agent: RunningAgent): Promise<{ result: CliResult; stats: Record<string, unknown> }> {
  agent.child.kill('SIGTERM');
  const result = await agent.done;
  const stopped = jsonLines(result.stdout).find((line) => line['event'] === 'stopped');
  return { result, stats: (stopped?.['stats'] ?? {}) as Record<string, unknown> };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-it-'));
  dirs.push(dir);
  return dir;
}

/** Bodies of the records from `service`, counted per body. */
function received(collector: TestCollector, service: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of collector.records) {
    if (record.service !== service) continue;
    counts.set(record.body, (counts.get(record.body) ?? 0) + 1);
  }
  return counts;
}

/** The numbers 1..count missing from what arrived for `prefix`. */
function missing(arrived: Map<string, number>, prefix: string, count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1).filter((n) => !arrived.has(`${prefix}-${n}`));
}

async function allArrived(collector: TestCollector, service: string, prefix: string, count: number, timeoutMs = 60_000): Promise<void> {
  await eventually(() => Promise.resolve(missing(received(collector, service), prefix, count).length === 0 ? true : undefined), timeoutMs).catch(() => {
    throw new Error(`lines of ${service} still missing: ${missing(received(collector, service), prefix, count).slice(0, 20).join(', ')}…`);
  });
}

describe('flotilla agent (real Engine)', () => {
  it('keeps everything while the collector is down, then delivers every line once it is up; counts add up', async () => {
    const project = projectName('down');
    const collector = await startTestCollector({ startDown: true });
    collectors.push(collector);
    await runContainer(project, 'printer', numberedScript('down', 300));
    const dir = stateDir();
    const agent = startAgent(collector, dir, project);

    // The agent says it cannot deliver; then the lines sit in its queue.
    await eventually(() => Promise.resolve(agent.printed().some((line) => line['event'] === 'retry') ? true : undefined));
    expect(collector.records).toHaveLength(0);
    await collector.up();
    await allArrived(collector, 'printer', 'down', 300);

    const { result, stats } = await stopAgent(agent);
    expect(result.code).toBe(0);
    const arrived = received(collector, 'printer');
    expect([...arrived.values()].every((times) => times === 1)).toBe(true);
    expect(stats).toMatchObject({ received: 300, queued: 300, shipped: 300, inQueue: 0, dropped: { queue_full: 0, disk_full: 0, rejected: 0 } });
    expect(collector.records.filter((record) => record.attributes['log.iostream'] === 'stderr')).toHaveLength(150);
    expect(collector.records[0]?.resource).toMatchObject({ 'service.namespace': project, 'container.name': `${project}-printer` });
  });

  it('loses nothing when the agent is killed with SIGKILL mid-stream and started again', async () => {
    const project = projectName('kill');
    const collector = await startTestCollector();
    collectors.push(collector);
    const count = 1_500;
    await runContainer(project, 'stream', numberedScript('kill', count, '0.002'));
    const dir = stateDir();
    const first = startAgent(collector, dir, project);
    // Mid-stream: some lines delivered, the container still printing.
    await eventually(() => Promise.resolve(received(collector, 'stream').size >= 100 ? true : undefined));
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const beforeKill = received(collector, 'stream').size;
    expect(beforeKill).toBeLessThan(count);

    const second = startAgent(collector, dir, project);
    await allArrived(collector, 'stream', 'kill', count, 120_000);
    const { result, stats } = await stopAgent(second);
    expect(result.code).toBe(0);
    const arrived = received(collector, 'stream');
    const total = [...arrived.values()].reduce((sum, times) => sum + times, 0);
    // At-least-once: a batch delivered but not yet marked so when the agent died may come twice.
    expect(arrived.size).toBe(count);
    expect(total).toBeGreaterThanOrEqual(count);
    expect(stats).toMatchObject({ inQueue: 0, dropped: { queue_full: 0, disk_full: 0, rejected: 0 } });
    // What the state file counted as shipped reached the collector; nothing was counted twice as received.
    expect(stats['shipped']).toBeLessThanOrEqual(total);
    expect(stats['received']).toBeGreaterThanOrEqual(count);
    expect(stats['received']).toBeLessThanOrEqual(total);
  });

  it('picks up a restarted container and a container started while it runs', async () => {
    const project = projectName('restart');
    const collector = await startTestCollector();
    collectors.push(collector);
    // Each boot prints its own numbered lines, so a restart's lines are told apart from the first run's.
    const bootScript = (prefix: string) =>
      `n=$(cat /tmp/boots 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/boots; ${numberedScript(`${prefix}-boot$n`, 20)}`;
    const restarted = await runContainer(project, 'restarted', bootScript('r'));
    const dir = stateDir();
    const agent = startAgent(collector, dir, project);
    await allArrived(collector, 'restarted', 'r-boot1', 20);

    await docker.getContainer(restarted).restart({ t: 0 });
    await allArrived(collector, 'restarted', 'r-boot2', 20);
    await runContainer(project, 'latecomer', numberedScript('late', 20));
    await allArrived(collector, 'latecomer', 'late', 20);

    const { result, stats } = await stopAgent(agent);
    expect(result.code).toBe(0);
    const follows = jsonLines(result.stdout).filter((line) => line['event'] === 'follow').map((line) => line['service']);
    expect(follows.sort()).toEqual(['latecomer', 'restarted']);
    // Nothing read twice across the restart: each line once, and the counts agree.
    expect([...received(collector, 'restarted').values()].every((times) => times === 1)).toBe(true);
    expect(stats).toMatchObject({ received: 60, shipped: 60, inQueue: 0 });
  });
});

