/**
 * Service volumes: the short syntax `[SOURCE:]TARGET[:MODE]` and the long syntax, to ServiceVolume.
 * A source that is a path (absolute by now) is a bind mount; anything else names a volume.
 */
import type { ServiceVolume } from '../types.js';
import { isHostPath } from '../relative-paths.js';
import type { RawServiceVolume } from '../schema/volumes.js';
import { parseBytes } from './byte-size.js';
import { parseMode } from './file-mode.js';

const MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'consistent', 'cached', 'delegated', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

type Result<T> = { value: T } | { error: string };

/** One mount from a `volumes:` item. */
export function parseVolume(raw: RawServiceVolume): Result<ServiceVolume> {
  return typeof raw === 'string' ? parseShort(raw) : parseLong(raw);
}

function parseShort(text: string): Result<ServiceVolume> {
  const parts = text.split(':');
  if (parts.length > 3 || parts.some((part) => part === '')) {
    return { error: `invalid volume '${text}': expected [SOURCE:]TARGET[:MODE], like "data:/var/lib/data" or "./src:/app:ro"` };
  }
  const [first = '', second, third] = parts;
  const source = second === undefined ? undefined : first;
  const target = second ?? first;
  if (!target.startsWith('/')) return { error: `invalid volume '${text}': the container path '${target}' must be absolute` };
  const modes = third === undefined ? [] : third.split(',');
  const unknown = modes.find((mode) => !MODES.has(mode));
  if (unknown !== undefined) return { error: `invalid volume '${text}': unknown mode '${unknown}'; expected ro, rw, z, Z, nocopy or a propagation mode` };
  const readOnly = modes.includes('ro');
  if (source !== undefined && isHostPath(source)) return { value: { type: 'bind', source, target, readOnly, createHostPath: true } };
  if (source !== undefined && !VOLUME_NAME.test(source)) {
    return { error: `invalid volume '${text}': '${source}' is neither a path (start it with ./ or /) nor a volume name` };
  }
  const volume: ServiceVolume = { type: 'volume', target, readOnly, nocopy: modes.includes('nocopy') };
  if (source !== undefined) volume.source = source;
  return { value: volume };
}

function parseLong(raw: Exclude<RawServiceVolume, string>): Result<ServiceVolume> {
  if (!raw.target.startsWith('/')) return { error: `target '${raw.target}' must be an absolute path` };
  const readOnly = raw.read_only ?? false;
  switch (raw.type) {
    case 'bind':
      if (raw.source === undefined || raw.source === '') return { error: "a bind mount needs a source (the host path)" };
      return { value: { type: 'bind', source: raw.source, target: raw.target, readOnly, createHostPath: raw.bind?.create_host_path ?? false } };
    case 'volume': {
      const volume: ServiceVolume = { type: 'volume', target: raw.target, readOnly, nocopy: raw.volume?.nocopy ?? false };
      if (raw.source !== undefined && raw.source !== '') volume.source = raw.source;
      return { value: volume };
    }
    case 'tmpfs': {
      if (raw.source !== undefined) return { error: 'a tmpfs mount has no source' };
      const tmpfs: ServiceVolume = { type: 'tmpfs', target: raw.target };
      if (raw.tmpfs?.size !== undefined) {
        const size = parseBytes(raw.tmpfs.size);
        if (size === undefined) return { error: `tmpfs.size '${raw.tmpfs.size}' is not a size in bytes or like 64m` };
        tmpfs.size = size;
      }
      if (raw.tmpfs?.mode !== undefined) {
        const mode = parseMode(raw.tmpfs.mode);
        if (mode === undefined) return { error: `tmpfs.mode '${raw.tmpfs.mode}' is not a file mode like 1777` };
        tmpfs.mode = mode;
      }
      return { value: tmpfs };
    }
  }
}
