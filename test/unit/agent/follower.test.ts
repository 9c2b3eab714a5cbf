/** A follower whose state file fails for a while: nothing piles up in memory, nothing is lost, nothing is queued twice. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openAgentStore, type AgentStore } from '../../../src/agent/agent-store.js';
import { ContainerFollower } from '../../../src/agent/follower.js';
import { encodeResource } from '../../../src/agent/otlp-encode.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { Label } from '../../../src/runtime/labels.js';
import { decodeLogsRequest } from '../../../src/telemetry/otlp/index.js';
import { encodeLogsRequest } from '../../../src/agent/otlp-encode.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('rewinds to the cursor on disk when queuing fails, and reads the lines again once it works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-follower-'));
  dirs.push(dir);
  const real = openAgentStore(join(dir, 'agent.db'), { maxRecords: 10_000 });
  // The state file refuses the first three writes, as a broken or read-only file would.
  let failures = 3;
  const store: AgentStore = Object.create(real) as AgentStore;
  store.enqueue = (batch) => {
    if (failures > 0) {
      failures -= 1;
      throw new Error('attempt to write a readonly database');
    }
    return real.enqueue(batch);
  };

  const driver = new FakeDriver();
  driver.containers.set('c1', {
    id: 'c1', name: 'shop-orders-1', project: 'shop', service: 'orders', replica: 1, configHash: 'h', imageId: 'sha256:1', state: 'created', exitCode: 0, ports: [],
    labels: { [Label.project]: 'shop', [Label.service]: 'orders' },
  });
  await driver.startContainer('c1');
  for (let i = 0; i < 30; i += 1) driver.output.write('c1', `line ${i}`, { timeNs: 1_700_000_000_000_000_000n + BigInt(i) });

  const warnings: string[] = [];
  const follower = new ContainerFollower((await driver.inspectContainer('c1'))!, {
    driver, store, resource: encodeResource({ 'service.name': 'orders' }), batchSize: 10, flushIntervalMs: 5,
    onEvent: (event) => {
      if (event.type === 'warning') warnings.push(event.message);
    },
    onQueued: () => undefined,
  });
  const controller = new AbortController();
  const running = follower.run(controller.signal);
  const deadline = Date.now() + 20_000;
  while (real.counts().inQueue < 30 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  await running;

  expect(warnings.filter((message) => message.includes('reading them again later'))).toHaveLength(3);
  const batch = real.nextBatch(1_000, 1 << 24);
  const bodies = batch ? decodeLogsRequest(encodeLogsRequest(batch.groups), 'application/x-protobuf').records.map((record) => record.body) : [];
  // Every line once, in order: what was let go was read again from the cursor on disk.
  expect(bodies).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`));
  real.close();
});
