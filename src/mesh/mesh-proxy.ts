/** What every proxy in a registry offers, whatever it speaks: TCP (bytes) or HTTP (messages). */
import type { ToxicCollection } from './toxic-collection.js';

/** The protocol a proxy understands. Toxiproxy's JSON has no kind: absent means `tcp`. */
export type ProxyKind = 'tcp' | 'http';

/** The kinds, for validation. */
export const PROXY_KINDS: readonly ProxyKind[] = ['tcp', 'http'];

/** The JSON Toxiproxy returns for a proxy (without its toxics), with Flotilla's optional extension fields. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  /** Extension: present for HTTP proxies only, so TCP proxies answer exactly Toxiproxy's JSON. */
  kind?: ProxyKind;
  /** Extension: an HTTP proxy's resilience settings. */
  resilience?: unknown;
  /** Extension: the service the proxy fronts, when it was created for one (a mesh proxy process's config); absent for API-made proxies. */
  service?: string;
}

/** A change to a proxy: Toxiproxy's `POST /proxies/{name}` body, plus extensions. */
export interface ProxyPatch {
  listen?: string | undefined;
  upstream?: string | undefined;
  enabled?: boolean | undefined;
  /** HTTP proxies only: new resilience settings (JSON, replaced as a whole; defaults fill the rest). */
  resilience?: unknown;
}

/** A named proxy with its toxics. Not listening until `enable()`. */
export interface MeshProxy extends AsyncDisposable {
  readonly name: string;
  readonly kind: ProxyKind;
  readonly toxics: ToxicCollection;
  /** The listen address; once enabled, the address really bound. */
  readonly listen: string;
  /** `host:port`, or a comma-separated list of replicas. */
  readonly upstream: string;
  readonly enabled: boolean;
  toJSON(): ProxyJson;
  enable(): Promise<void>;
  disable(): Promise<void>;
  update(patch: ProxyPatch): Promise<void>;
  close(): Promise<void>;
}
