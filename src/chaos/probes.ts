/** Runs the probes of a hypothesis: I/O here, judgement in expectations.ts. */
import { parseDuration } from '../spec/duration.js';
import type { HttpRequestSpec, ProbeSpec } from '../spec/types.js';
import type { Clock } from './clock.js';
import type { ContainerActions } from './containers.js';
import { checkCollector, checkCommand, checkHttp, collectorFigure, type Check, type CollectorMap, type HttpOutcome } from './expectations.js';
import type { ProbePhase, ProbeResult } from './types.js';

/** The collector's query API, as `flotilla serve` answers it (the CLI's CollectorClient fits). */
export interface CollectorApi {
  get<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>;
}

/** What probes need from outside. */
export interface ProbeDeps {
  clock: Clock;
  send: (request: HttpRequestSpec, signal?: AbortSignal) => Promise<HttpOutcome>;
  /** The collector; called when a collector probe runs, so experiments without one need none. */
  collector?: () => CollectorApi;
  /** For command probes. */
  containers?: ContainerActions;
}

/** Runs one probe. */
export interface ProbeRunner {
  run(probe: ProbeSpec, phase: ProbePhase, signal?: AbortSignal): Promise<ProbeResult>;
}

/** A probe runner over `deps`; a probe never throws: whatever goes wrong is its evidence. */
export function createProbeRunner(deps: ProbeDeps): ProbeRunner {
  const check = async (probe: ProbeSpec, signal: AbortSignal | undefined): Promise<Check> => {
    switch (probe.kind) {
      case 'http':
        return checkHttp(probe.expect, await deps.send(probe.request, signal));
      case 'collector': {
        if (!deps.collector) return { ok: false, value: null, expected: probe.query, detail: 'no collector to ask' };
        const until = deps.clock.now();
        const windowMs = parseDuration(probe.window);
        const map = await deps.collector().get<CollectorMap>('/api/map', { since: until - windowMs, until });
        return checkCollector(probe, collectorFigure(probe, map, windowMs));
      }
      case 'command': {
        if (!deps.containers) return { ok: false, value: null, expected: `exit code ${probe.expect.exitCode}`, detail: 'no container runtime to run it' };
        const [container] = await deps.containers.find(probe.service, probe.replica);
        if (!container) return { ok: false, value: null, expected: `exit code ${probe.expect.exitCode}`, detail: `no container of ${probe.service}` };
        return checkCommand(probe.expect, await deps.containers.run(container, probe.run, probe.timeout));
      }
    }
  };
  return {
    async run(probe, phase, signal) {
      const startedAt = deps.clock.now();
      let outcome: Check;
      try {
        outcome = await check(probe, signal);
      } catch (error) {
        outcome = { ok: false, value: null, expected: probe.kind, detail: error instanceof Error ? error.message : String(error) };
      }
      return {
        name: probe.name,
        kind: probe.kind,
        phase,
        ok: outcome.ok,
        value: outcome.value,
        expected: outcome.expected,
        ...(outcome.detail !== undefined && { detail: outcome.detail }),
        at: new Date(startedAt).toISOString(),
        durationMs: Math.round(deps.clock.now() - startedAt),
      };
    },
  };
}
