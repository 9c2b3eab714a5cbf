/** A service's volumes, secrets and configs. */
import type { FileGrant, ServiceVolume } from '../types.js';
import type { RawGrant } from '../schema/grants.js';
import type { RawService } from '../schema/service.js';
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';
import { parseMode } from './file-mode.js';
import { parseVolume } from './volume-syntax.js';

/** Mounts in order; a second mount on the same container path is reported. */
export function resolveVolumes(raw: RawService, path: readonly PathSegment[], context: ResolveContext): ServiceVolume[] {
  const volumes: ServiceVolume[] = [];
  const targets = new Map<string, number>();
  raw.volumes?.forEach((item, index) => {
    const at = [...path, 'volumes', index];
    const parsed = parseVolume(item);
    if ('error' in parsed) {
      context.fail(at, parsed.error);
      return;
    }
    const first = targets.get(parsed.value.target);
    if (first !== undefined) {
      context.fail(at, `container path '${parsed.value.target}' is already mounted by volumes[${first}]`);
      return;
    }
    targets.set(parsed.value.target, index);
    const volume = parsed.value;
    if (volume.type === 'volume' && volume.source !== undefined && !context.checkDeclared('volumes', volume.source, at)) return;
    volumes.push(volume);
  });
  return volumes;
}

/** Secret or config grants; targets default to `/run/secrets/<source>` (secrets) or `/<source>` (configs). */
export function resolveGrants(items: RawGrant[] | undefined, kind: 'secrets' | 'configs', path: readonly PathSegment[], context: ResolveContext): FileGrant[] {
  const grants: FileGrant[] = [];
  const dir = kind === 'secrets' ? '/run/secrets' : '';
  items?.forEach((item, index) => {
    const at = [...path, kind, index];
    const source = typeof item === 'string' ? item : item.source;
    if (!context.checkDeclared(kind, source, typeof item === 'string' ? at : [...at, 'source'])) return;
    if (typeof item === 'string') {
      grants.push({ source: item, target: `${dir}/${item}` });
      return;
    }
    const target = item.target === undefined || item.target === '' ? item.source : item.target;
    const grant: FileGrant = { source: item.source, target: target.startsWith('/') ? target : `${dir}/${target}` };
    if (item.uid !== undefined) grant.uid = item.uid;
    if (item.gid !== undefined) grant.gid = item.gid;
    if (item.mode !== undefined) {
      const mode = parseMode(item.mode);
      if (mode === undefined) context.fail([...at, 'mode'], `expected a file mode like 0440, found '${String(item.mode)}'`);
      else grant.mode = mode;
    }
    grants.push(grant);
  });
  return grants;
}
