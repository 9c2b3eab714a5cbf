import { randomUUID } from 'node:crypto';
import { FLOTILLA_VERSION } from '../core/version.js';
import type { BuildSpec } from '../spec/types.js';
import type { BuildVersion, GitInfo, InTotoStatement } from './types.js';

/** Build args whose names suggest a secret: their values never reach the state store or a label. */
const SECRET_NAME = /pass|secret|token|key|credential/i;
export const REDACTED = '[redacted]';

export interface StatementInput {
  project: string;
  service: string;
  imageId: string;
  tags: string[];
  build: BuildSpec;
  version: BuildVersion;
  git: GitInfo | undefined;
  startedOn: Date;
  finishedOn: Date;
}

/**
 * The provenance of one build as an in-toto Statement v1 with a SLSA v1 provenance predicate:
 * the image as subject; the git commit and the base images as resolved dependencies; the build
 * settings (secret-looking args redacted) as parameters.
 */
export function provenanceStatement(input: StatementInput): InTotoStatement {
  const { build, version, git } = input;
  const args = Object.fromEntries(Object.entries(build.args).map(([name, value]) => [name, SECRET_NAME.test(name) ? REDACTED : value]));
  const dependencies: InTotoStatement['predicate']['buildDefinition']['resolvedDependencies'] = [];
  if (git) {
    dependencies.push({ uri: git.source ? `git+${git.source}` : 'git+local', digest: { gitCommit: git.commit }, ...(git.tag ? { name: git.tag } : {}) });
  }
  for (const base of version.baseImages) {
    const digest = (base.digest ?? base.id)?.split('sha256:')[1];
    dependencies.push({ uri: `docker-image://${base.reference}`, digest: digest ? { sha256: digest } : {} });
  }
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: input.tags.map((name) => ({ name, digest: { sha256: input.imageId.replace(/^sha256:/, '') } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://flotilla.dev/build/compose-service/v1',
        externalParameters: {
          project: input.project,
          service: input.service,
          dockerfile: version.dockerfile,
          args,
          ...(build.target ? { target: build.target } : {}),
          ...(git ? { revision: git.commit, dirty: git.dirty } : {}),
        },
        internalParameters: { buildVersion: version.version, contextDigest: version.contextDigest },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: 'https://flotilla.dev/builder/docker-engine', version: { flotilla: FLOTILLA_VERSION } },
        metadata: { invocationId: randomUUID(), startedOn: input.startedOn.toISOString(), finishedOn: input.finishedOn.toISOString() },
      },
    },
  };
}
