/**
 * Tracing for the shop's services with the OpenTelemetry Node SDK, configured the standard way:
 * by OTEL_EXPORTER_OTLP_ENDPOINT (where spans go, OTLP/HTTP protobuf), OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES (who sends them; `flotilla up` sets all three). Nothing starts when
 * no endpoint is set or OTEL_SDK_DISABLED is true: the spans the services create are then no-ops.
 *
 * The SDK's require-hook instrumentations (http, pg) cannot patch a bundled ESM service, so the
 * shop makes its SERVER spans in shared/http.ts and its database spans in orders/src/db-tracing.ts
 * by hand. Outgoing fetch() calls are traced by the undici instrumentation, which listens on
 * Node's diagnostics_channel rather than patching modules, and so works bundled.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

/** What `startTelemetry` needs. */
export interface TelemetryOptions {
  /** The service's own name: its `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise. */
  serviceName: string;
  /** Where the settings are read; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where finished spans go; by default batched to the OTLP exporter. Tests pass their own. */
  spanProcessor?: SpanProcessor;
}

/** Tracing that runs: the global tracer provider, context manager, propagator and fetch instrumentation. */
export interface Telemetry {
  /** Sends the spans still buffered, then stops and unregisters everything. */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for tracing: an OTLP endpoint is set and the SDK is not disabled. */
export function telemetryEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return Boolean(endpoint) && env['OTEL_SDK_DISABLED']?.trim().toLowerCase() !== 'true';
}

/**
 * Starts tracing when the environment asks for it (see `telemetryEnabled`); undefined otherwise.
 * Registers globally (one per process): W3C trace context propagation, an AsyncLocalStorage
 * context manager, and CLIENT spans for fetch() with `traceparent` sent along.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry | undefined {
  if (!telemetryEnabled(options.env ?? process.env)) return undefined;
  // Later wins: the SDK's defaults, then the service's own name, then what the environment says.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': options.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  // The exporter reads its endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables itself.
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  // Enabled on construction; its spans go to this provider.
  const undici = new UndiciInstrumentation();
  undici.setTracerProvider(provider);
  let stopped: Promise<void> | undefined;
  return {
    shutdown: () =>
      (stopped ??= (async () => {
        undici.disable();
        try {
          await provider.shutdown();
        } finally {
          trace.disable();
          context.disable();
          propagation.disable();
        }
      })()),
  };
}
