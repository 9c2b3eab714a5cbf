/**
 * A world for trace tests: the fake driver with Flotilla containers and labelled images, a real
 * state store in a temporary directory, a stack, and a repository whose refs a test sets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { imageLabels } from '../../../src/build/oci-labels.js';
import type { GitInfo } from '../../../src/build/types.js';
import { openStateStore, stateDirectory, type StateStore, type TraceDeps } from '../../../src/provenance/index.js';
import type { ContainerState, ObservedContainer } from '../../../src/runtime/driver.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { Label } from '../../../src/runtime/labels.js';
import type { Stack } from '../../../src/spec/types.js';
import { service, stack } from '../../support/stack-factory.js';

/** What a test sets up and hands to trace. */
export interface World extends TraceDeps {
  driver: FakeDriver;
  store: StateStore;
  stack: Stack;
  /** Tag or sha → commit, as the repository has them now. */
  refs: Map<string, string>;
  dispose(): void;
}

/** Project `shop` with services api (built) and db, in a temporary directory with an empty state store. */
export function world(): World {
  const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-trace-'));
  const shop = stack([service('api', { image: 'shop-api:latest' }), service('db', { image: 'postgres:15' })], { name: 'shop', workingDir: dir });
  const store = openStateStore(stateDirectory(shop));
  const refs = new Map<string, string>();
  return {
    driver: new FakeDriver(),
    store,
    stack: shop,
    refs,
    git: { resolveRef: (_dir, ref) => Promise.resolve(refs.get(ref)) },
    dispose() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds a container (running unless said otherwise) of `project`/`service` running `imageId`. */
export function addContainer(
  driver: FakeDriver,
  fields: { id: string; name: string; imageId: string; service?: string; project?: string; replica?: number; state?: ContainerState; image?: string },
): ObservedContainer {
  const { project = 'shop', service: name = 'api', replica = 1 } = fields;
  const flotilla = fields.project !== '';
  const container: ObservedContainer = {
    id: fields.id,
    name: fields.name,
    project,
    service: flotilla ? name : '',
    replica,
    configHash: 'hash',
    imageId: fields.imageId,
    state: fields.state ?? 'running',
    exitCode: 0,
    labels: flotilla
      ? { [Label.project]: project, [Label.service]: name, [Label.replica]: String(replica), [Label.image]: fields.image ?? 'shop-api:latest' }
      : {},
    ports: [],
  };
  driver.containers.set(container.id, container);
  return container;
}

/** The labels a Flotilla build at `git` gives an image. */
export function builtLabels(git: GitInfo | undefined, fields: { project?: string; service?: string } = {}): Record<string, string> {
  return imageLabels({
    git,
    version: 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210',
    baseImages: [{ reference: 'node:20-bookworm-slim', id: `sha256:${'b'.repeat(64)}` }],
    finalBase: 'node:20-bookworm-slim',
    project: fields.project ?? 'shop',
    service: fields.service ?? 'api',
    created: new Date('2024-05-02T08:00:00.000Z'),
  });
}
