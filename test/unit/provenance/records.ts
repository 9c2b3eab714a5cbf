/** BuildRecords for provenance tests, shaped like the ones the build writes. */
import type { BuildRecord, GitInfo, InTotoStatement } from '../../../src/build/types.js';

/** A full 40-hex commit sha made from a short seed (`c0ffee` → `c0ffee000…`). */
export function sha(seed: string): string {
  return seed.padEnd(40, '0');
}

/** An image id made from a short seed. */
export function imageId(seed: string): string {
  return `sha256:${seed.padEnd(64, '0')}`;
}

/** An in-toto statement for `id` with these build args. */
export function statement(id: string, args: Record<string, string> = {}): InTotoStatement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'shop-api', digest: { sha256: id.replace('sha256:', '') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://flotilla.dev/build/v1',
        externalParameters: { service: 'api', dockerfile: 'Dockerfile', args },
        internalParameters: {},
        resolvedDependencies: [{ uri: 'git+https://example.com/shop.git', digest: { gitCommit: sha('abc1') } }],
      },
      runDetails: {
        builder: { id: 'https://flotilla.dev/builder' },
        metadata: { invocationId: 'run-1', startedOn: '2024-05-01T10:00:00.000Z', finishedOn: '2024-05-01T10:01:00.000Z' },
      },
    },
  };
}

/** A record of a build of service `api` at commit abc1…, tag v1.0.0, with `overrides`. */
export function buildRecord(overrides: Partial<BuildRecord> & { git?: GitInfo | undefined } = {}): BuildRecord {
  const id = overrides.imageId ?? imageId('aa11');
  return {
    imageId: id,
    repoDigests: [],
    project: 'shop',
    service: 'api',
    tags: ['shop-api:latest', 'shop-api:fl-0123456789abcdef0123'],
    version: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    git: { commit: sha('abc1'), tag: 'v1.0.0', describe: 'v1.0.0', dirty: false, source: 'https://example.com/shop.git' },
    baseImages: [{ reference: 'node:20-bookworm-slim', id: imageId('bb22') }],
    createdAt: '2024-05-01T10:01:00.000Z',
    statement: statement(id),
    ...overrides,
  };
}
