import { describe, expect, it } from 'vitest';
import { ImageLabel } from '../../../src/build/image-labels.js';
import { imageLabels } from '../../../src/build/oci-labels.js';

const created = new Date('2026-03-01T12:00:00.000Z');
const baseImages = [
  { reference: 'golang:1.22', id: 'sha256:go' },
  { reference: 'gcr.io/distroless/static', id: 'sha256:distroless', digest: 'gcr.io/distroless/static@sha256:d1' },
];

describe('imageLabels', () => {
  it('labels a tagged, clean build with its git origin and the final base digest', () => {
    const git = { commit: 'a'.repeat(40), tag: 'v1.4.0', describe: 'v1.4.0', dirty: false, source: 'https://github.com/acme/shop.git' };
    expect(imageLabels({ git, version: 'f'.repeat(64), baseImages, finalBase: 'gcr.io/distroless/static', project: 'shop', service: 'api', created })).toEqual({
      'org.opencontainers.image.revision': 'a'.repeat(40),
      'org.opencontainers.image.source': 'https://github.com/acme/shop.git',
      'org.opencontainers.image.version': 'v1.4.0',
      'org.opencontainers.image.created': '2026-03-01T12:00:00.000Z',
      'dev.flotilla.build.version': 'f'.repeat(64),
      'dev.flotilla.build.dirty': 'false',
      'dev.flotilla.build.base-image': 'gcr.io/distroless/static',
      'dev.flotilla.build.base-digest': 'gcr.io/distroless/static@sha256:d1',
      'dev.flotilla.build.project': 'shop',
      'dev.flotilla.build.service': 'api',
    });
  });

  it('uses describe when HEAD has no tag, and the base image id when it has no digest', () => {
    const git = { commit: 'b'.repeat(40), describe: 'v1.4.0-3-gbbbbbbb', dirty: true };
    const labels = imageLabels({ git, version: 'v', baseImages, finalBase: 'golang:1.22', project: 'shop', service: 'api', created });
    expect(labels).toMatchObject({
      [ImageLabel.version]: 'v1.4.0-3-gbbbbbbb',
      [ImageLabel.dirty]: 'true',
      [ImageLabel.source]: '',
      [ImageLabel.baseImage]: 'golang:1.22',
      [ImageLabel.baseDigest]: 'sha256:go',
    });
  });

  it('sets every key even without git or a base, so nothing is inherited from the base image', () => {
    const labels = imageLabels({ git: undefined, version: 'v', baseImages: [], project: 'shop', service: 'api', created });
    expect(Object.keys(labels).sort()).toEqual(Object.values(ImageLabel).sort());
    expect(labels).toMatchObject({
      [ImageLabel.revision]: '',
      [ImageLabel.source]: '',
      [ImageLabel.version]: '',
      [ImageLabel.dirty]: 'true',
      [ImageLabel.baseImage]: '',
      [ImageLabel.baseDigest]: '',
    });
  });
});
