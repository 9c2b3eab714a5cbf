/**
 * Runs one experiment: preflight, hypothesis before, the method under load, settle, hypothesis
 * after, then — always, also after an error or Ctrl-C — every fault, pause and network cut still
 * in place is undone and the declared rollbacks run. The runner decides nothing about the verdict
 * (verdict.ts does) and prints nothing (it emits events).
 */
import { parseDuration } from '../spec/duration.js';
import type { ActionSpec, ExperimentSpec, HttpRequestSpec, RollbackSpec } from '../spec/types.js';
import type { Clock } from './clock.js';
import type { ContainerActions, Undo } from './containers.js';
import type { HttpOutcome } from './expectations.js';
import { startLoad, type RunningLoad } from './load.js';
import type { FaultClient } from './mesh-client.js';
import { describeRollback, planSteps, type PlannedStep } from './plan.js';
import type { ProbeRunner } from './probes.js';
import type { ActionRecord, ChaosEvent, ExperimentReport, LoadStats, ProbePhase, ProbeResult } from './types.js';
import { decideVerdict } from './verdict.js';

/** Everything the runner talks to; tests pass fakes. */
export interface RunnerDeps {
  clock: Clock;
  probes: ProbeRunner;
  /** Needed when the method has fault steps. */
  faults?: FaultClient;
  /** Needed for container and network steps, command probes and rollbacks. */
  containers?: ContainerActions;
  /** Sends the load's requests. */
  send: (request: HttpRequestSpec, signal: AbortSignal) => Promise<HttpOutcome>;
  /** Seconds `stop`/`restart` wait before SIGKILL, per service (the service's stop_grace_period). */
  stopSeconds?: (service: string) => number | undefined;
}

/** Options of one run. */
export interface RunOptions {
  /** Ctrl-C: stop the method, skip the after-check, roll back. */
  signal?: AbortSignal;
  onEvent?: (event: ChaosEvent) => void;
}

/** Something applied that must be undone: a fault, a pause, a network cut. */
interface Pending {
  record: ActionRecord;
  undo: Undo;
  settled: boolean;
}

/** Runs `experiment`; resolves to its report whatever happens (errors are evidence, not exceptions). */
export async function runExperiment(experiment: ExperimentSpec, deps: RunnerDeps, options: RunOptions = {}): Promise<ExperimentReport> {
  const { clock } = deps;
  const emit = options.onEvent ?? (() => undefined);
  const signal = options.signal ?? new AbortController().signal;
  const iso = () => new Date(clock.now()).toISOString();
  const startedMs = clock.now();
  const errors: string[] = [];
  const method: ActionRecord[] = [];
  const rollbacks: ActionRecord[] = [];
  const pending: Pending[] = [];
  let before: ProbeResult[] = [];
  let after: ProbeResult[] | undefined;
  let methodError: string | undefined;
  let load: LoadStats | undefined;

  const checkHypothesis = async (phase: ProbePhase): Promise<ProbeResult[]> => {
    emit({ type: 'phase', phase });
    const results: ProbeResult[] = [];
    for (const probe of experiment.hypothesis) {
      if (signal.aborted) break;
      const result = await deps.probes.run(probe, phase, signal);
      results.push(result);
      emit({ type: 'probe', result });
    }
    return results;
  };

  const settle = async (entry: Pending): Promise<void> => {
    if (entry.settled) return;
    entry.settled = true;
    try {
      await entry.undo();
      // A step that failed stays failed; its undo time still shows that nothing was left behind.
      if (entry.record.status !== 'failed') entry.record.status = 'reverted';
      entry.record.revertedAt = iso();
      emit({ type: 'action', record: entry.record, change: 'reverted' });
    } catch (error) {
      const message = messageOf(error);
      entry.record.error = entry.record.error === undefined ? `undo failed: ${message}` : `${entry.record.error}; undo failed: ${message}`;
      errors.push(`${entry.record.step} (${entry.record.description}): undo failed: ${message}`);
      emit({ type: 'action', record: entry.record, change: 'failed' });
    }
  };

  /** Applies one step; registers its undo before the call that needs undoing, so an ambiguous failure is still undone. */
  const apply = async (planned: PlannedStep, record: ActionRecord): Promise<Pending | undefined> => {
    const step: ActionSpec = planned.step;
    switch (step.kind) {
      case 'fault': {
        const faults = required(deps.faults, 'a mesh API');
        const { service, toxic } = step;
        record.targets = [`proxy ${service}`];
        const entry: Pending = { record, undo: () => faults.removeToxic(service, toxic.name), settled: false };
        pending.push(entry);
        await faults.addToxic(service, toxic);
        return entry;
      }
      case 'container': {
        const containers = required(deps.containers, 'a container runtime');
        const found = await containers.find(step.service, step.replica);
        record.targets = found.map((container) => container.name);
        const stopSeconds = deps.stopSeconds?.(step.service);
        const undo = await containers.act(found, step.action, { ...(step.signal !== undefined && { signal: step.signal }), ...(stopSeconds !== undefined && { stopSeconds }) });
        if (!undo) return undefined;
        const entry: Pending = { record, undo, settled: false };
        pending.push(entry);
        return entry;
      }
      case 'network': {
        const containers = required(deps.containers, 'a container runtime');
        const found = await containers.find(step.service, step.replica);
        record.targets = found.map((container) => container.name);
        const entry: Pending = { record, undo: await containers.cutNetwork(found), settled: false };
        pending.push(entry);
        return entry;
      }
    }
  };

  const runMethod = async (): Promise<void> => {
    emit({ type: 'phase', phase: 'method' });
    const stop = new AbortController();
    const running: RunningLoad | undefined = experiment.load ? startLoad(experiment.load, { clock, send: deps.send }) : undefined;
    // Ctrl-C stops the steps still to come and the load.
    const stopAll = () => {
      stop.abort();
      running?.stop();
    };
    signal.addEventListener('abort', stopAll, { once: true });
    const timers: Promise<void>[] = [];
    const methodStart = clock.now();
    try {
      for (const planned of planSteps(experiment)) {
        await clock.sleep(methodStart + planned.atMs - clock.now(), stop.signal);
        if (stop.signal.aborted) break;
        const record: ActionRecord = { step: `method[${planned.index}]`, kind: planned.step.kind, description: planned.description, status: 'applied', targets: [] };
        method.push(record);
        let entry: Pending | undefined;
        try {
          entry = await apply(planned, record);
        } catch (error) {
          record.status = 'failed';
          record.error = messageOf(error);
          methodError = `${record.step} (${record.description}): ${record.error}`;
          emit({ type: 'action', record, change: 'failed' });
          break;
        }
        record.appliedAt = iso();
        if (!entry) record.status = 'done';
        emit({ type: 'action', record, change: entry ? 'applied' : 'done' });
        if (!entry) continue;
        const { ends } = planned;
        const undoEntry = entry;
        if (ends.kind === 'duration') {
          timers.push(clock.sleep(ends.ms, stop.signal).then(() => settle(undoEntry)));
        } else if (ends.kind === 'requests' && running) {
          const target = running.sent + ends.count;
          const aborted = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
          timers.push(Promise.race([running.reached(target), aborted]).then(() => settle(undoEntry)));
        }
      }
    } finally {
      if (methodError !== undefined || signal.aborted) running?.stop();
      if (running) {
        load = await running.done;
        emit({ type: 'load', stats: load });
      }
      // Steps with a length end now at the latest; those until the end wait for the rollback.
      stop.abort();
      await Promise.all(timers);
      signal.removeEventListener('abort', stopAll);
    }
  };

  const rollback = async (spec: RollbackSpec, index: number): Promise<void> => {
    const record: ActionRecord = { step: `rollbacks[${index}]`, kind: spec.kind, description: describeRollback(spec), status: 'done', targets: [] };
    rollbacks.push(record);
    try {
      const containers = required(deps.containers, 'a container runtime');
      const found = await containers.find(spec.service, spec.replica);
      record.targets = found.map((container) => container.name);
      if (spec.kind === 'container') {
        const stopSeconds = deps.stopSeconds?.(spec.service);
        await containers.act(found, spec.action, { ...(spec.signal !== undefined && { signal: spec.signal }), ...(stopSeconds !== undefined && { stopSeconds }) });
      } else {
        const [container] = found;
        if (!container) throw new Error(`no container of ${spec.service}`);
        const outcome = await containers.run(container, spec.run, spec.timeout);
        if ('error' in outcome) throw new Error(outcome.error);
        if (outcome.exitCode !== 0) throw new Error(`exit code ${outcome.exitCode}`);
      }
      record.appliedAt = iso();
      emit({ type: 'action', record, change: 'done' });
    } catch (error) {
      record.status = 'failed';
      record.error = messageOf(error);
      errors.push(`${record.step} (${record.description}): ${record.error}`);
      emit({ type: 'action', record, change: 'failed' });
    }
  };

  try {
    emit({ type: 'phase', phase: 'preflight' });
    const preflight = await preflightErrors(experiment, deps);
    if (preflight.length > 0) {
      methodError = preflight.join('; ');
    } else {
      before = await checkHypothesis('before');
      if (!signal.aborted && before.every((probe) => probe.ok)) {
        await runMethod();
        if (methodError === undefined && !signal.aborted) {
          const settleMs = parseDuration(experiment.settle);
          if (settleMs > 0) {
            emit({ type: 'phase', phase: 'settle', detail: experiment.settle });
            await clock.sleep(settleMs, signal);
          }
          if (!signal.aborted) after = await checkHypothesis('after');
        }
      }
    }
  } catch (error) {
    // A bug or an unexpected failure: still roll back, and say what happened.
    methodError ??= messageOf(error);
    errors.push(messageOf(error));
  } finally {
    emit({ type: 'phase', phase: 'rollback' });
    for (const entry of [...pending].reverse()) {
      if (entry.settled) continue;
      const undoRecord: ActionRecord = { step: `undo ${entry.record.step}`, kind: entry.record.kind, description: `undo: ${entry.record.description}`, status: 'done', targets: entry.record.targets };
      await settle(entry);
      const undone = entry.record.revertedAt !== undefined;
      undoRecord.status = undone ? 'done' : 'failed';
      if (entry.record.revertedAt !== undefined) undoRecord.appliedAt = entry.record.revertedAt;
      if (!undone && entry.record.error !== undefined) undoRecord.error = entry.record.error;
      rollbacks.push(undoRecord);
    }
    for (const [index, spec] of experiment.rollbacks.entries()) await rollback(spec, index);
  }

  if (methodError !== undefined && !errors.some((error) => error.includes(methodError ?? ''))) errors.unshift(methodError);
  const { verdict, reason } = decideVerdict({ before, after, ...(methodError !== undefined && { methodError }), interrupted: signal.aborted });
  const endedMs = clock.now();
  return {
    experiment: experiment.name,
    ...(experiment.description !== undefined && { description: experiment.description }),
    verdict,
    reason,
    startedAt: new Date(startedMs).toISOString(),
    endedAt: new Date(endedMs).toISOString(),
    durationMs: Math.round(endedMs - startedMs),
    hypothesis: { before, after: after ?? [] },
    method,
    ...(load && { load }),
    rollbacks,
    errors,
  };
}

/**
 * Before anything is checked or applied: leftover toxics of an earlier run that died are removed
 * (which also proves the mesh answers), and every container a step targets exists.
 */
async function preflightErrors(experiment: ExperimentSpec, deps: RunnerDeps): Promise<string[]> {
  const problems: string[] = [];
  for (const [index, step] of experiment.method.entries()) {
    try {
      if (step.kind === 'fault') {
        const faults = required(deps.faults, 'a mesh API');
        await faults.checkProxy(step.service, step.toxic.type);
        await faults.removeToxic(step.service, step.toxic.name);
      }
      else await required(deps.containers, 'a container runtime').find(step.service, step.replica);
    } catch (error) {
      problems.push(`method[${index}]: ${messageOf(error)}`);
    }
  }
  return problems;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`this step needs ${what}, and none was given`);
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
