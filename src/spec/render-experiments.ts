/** Experiments back to the YAML shape of `x-flotilla.experiments`, every default written out, for `flotilla config`. */
import type { ActionLength, ExperimentSpec, HttpRequestSpec, ProbeSpec } from './types.js';

type Plain = Record<string, unknown>;

/** Experiments by name, each as its file form; loading the result gives the same experiments. */
export function renderExperiments(experiments: Record<string, ExperimentSpec>): Plain {
  const out: Plain = {};
  for (const name of Object.keys(experiments).sort()) {
    const experiment = experiments[name];
    if (experiment) out[name] = renderExperiment(experiment);
  }
  return out;
}

function renderExperiment(experiment: ExperimentSpec): Plain {
  const out: Plain = {};
  if (experiment.description !== undefined) out['description'] = experiment.description;
  if (experiment.hypothesis.length > 0) out['hypothesis'] = experiment.hypothesis.map(renderProbe);
  if (experiment.load) {
    const { load } = experiment;
    out['load'] = { http: renderRequest(load.request), rate: load.rate, duration: load.duration, concurrency: load.concurrency };
  }
  if (experiment.method.length > 0) {
    out['method'] = experiment.method.map((step) => {
      switch (step.kind) {
        case 'fault':
          return { fault: { service: step.service, toxic: { ...step.toxic }, at: step.at, ...renderLength(step.length) } };
        case 'container':
          return {
            container: {
              service: step.service,
              ...(step.replica !== undefined && { replica: step.replica }),
              action: step.action,
              ...(step.signal !== undefined && { signal: step.signal }),
              at: step.at,
              ...renderLength(step.length),
            },
          };
        case 'network':
          return { network: { service: step.service, ...(step.replica !== undefined && { replica: step.replica }), cut: true, at: step.at, ...renderLength(step.length) } };
      }
    });
  }
  if (experiment.rollbacks.length > 0) {
    out['rollbacks'] = experiment.rollbacks.map((rollback) =>
      rollback.kind === 'container'
        ? { container: { service: rollback.service, ...(rollback.replica !== undefined && { replica: rollback.replica }), action: rollback.action, ...(rollback.signal !== undefined && { signal: rollback.signal }) } }
        : { command: { service: rollback.service, replica: rollback.replica, run: rollback.run, timeout: rollback.timeout } },
    );
  }
  out['settle'] = experiment.settle;
  return out;
}

function renderProbe(probe: ProbeSpec): Plain {
  switch (probe.kind) {
    case 'http': {
      const expect: Plain = {};
      if (probe.expect.status) expect['status'] = probe.expect.status;
      if (probe.expect.bodyContains !== undefined) expect['body_contains'] = probe.expect.bodyContains;
      if (probe.expect.json !== undefined) expect['json'] = probe.expect.json;
      return { name: probe.name, http: { ...renderRequest(probe.request), ...(Object.keys(expect).length > 0 && { expect }) } };
    }
    case 'collector': {
      const { kind: _kind, name, ...rest } = probe;
      return { name, collector: rest };
    }
    case 'command':
      return {
        name: probe.name,
        command: {
          service: probe.service,
          replica: probe.replica,
          run: probe.run,
          timeout: probe.timeout,
          expect: { exit_code: probe.expect.exitCode, ...(probe.expect.stdoutContains !== undefined && { stdout_contains: probe.expect.stdoutContains }) },
        },
      };
  }
}

function renderRequest(request: HttpRequestSpec): Plain {
  return {
    url: request.url,
    method: request.method,
    ...(request.body !== undefined && { body: request.body }),
    ...(Object.keys(request.headers).length > 0 && { headers: request.headers }),
    timeout: request.timeout,
  };
}

function renderLength(length: ActionLength): Plain {
  if ('duration' in length) return { duration: length.duration };
  if ('requests' in length) return { requests: length.requests };
  return {};
}
