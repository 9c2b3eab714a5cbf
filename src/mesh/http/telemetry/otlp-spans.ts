/**
 * Encodes the mesh's spans as an OTLP ExportTraceServiceRequest (protobuf). Field numbers follow
 * opentelemetry-proto trace/v1/trace.proto, the ones src/telemetry/otlp reads back.
 */
import { ProtoWriter, writeAttributes, type AttributeValue } from '../../../telemetry/otlp/protobuf-writer.js';

/** The scope every mesh span and metric is sent under. */
export const MESH_SCOPE = { name: 'flotilla.mesh', version: '1' } as const;

/** One span as the mesh records it. */
export interface MeshSpan {
  /** Resource attributes (service.name first); spans with equal resources are grouped. */
  resource: Readonly<Record<string, AttributeValue>>;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: 'SERVER' | 'CLIENT';
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Readonly<Record<string, AttributeValue>>;
  /** Status ERROR with this message when set; UNSET otherwise. */
  error?: string | undefined;
}

const KIND = { SERVER: 2, CLIENT: 3 } as const;
const STATUS_ERROR = 2;

/** Writes the InstrumentationScope of MESH_SCOPE under `field`. */
export function writeScope(writer: ProtoWriter, field: number): void {
  writer.begin(field).string(1, MESH_SCOPE.name).string(2, MESH_SCOPE.version).end();
}

/** Writes a Resource under `field`. */
export function writeResource(writer: ProtoWriter, field: number, attributes: Readonly<Record<string, AttributeValue>>): void {
  writer.begin(field);
  writeAttributes(writer, 1, attributes);
  writer.end();
}

/** Groups items by their resource's attribute values (a stable key), keeping first-seen order. */
export function groupByResource<T extends { resource: Readonly<Record<string, AttributeValue>> }>(items: readonly T[]): T[][] {
  const groups = new Map<Readonly<Record<string, AttributeValue>> | string, T[]>();
  for (const item of items) {
    // Records share resource objects, so identity finds the group without a key string most of the time.
    let group = groups.get(item.resource);
    if (!group) {
      const key = JSON.stringify(item.resource);
      group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      groups.set(item.resource, group);
    }
    group.push(item);
  }
  return [...new Set(groups.values())];
}

function writeSpan(writer: ProtoWriter, span: MeshSpan): void {
  writer.begin(2).hex(1, span.traceId).hex(2, span.spanId);
  if (span.parentSpanId) writer.hex(4, span.parentSpanId);
  writer.string(5, span.name).varint(6, KIND[span.kind]).fixed64(7, span.startTimeUnixNano).fixed64(8, span.endTimeUnixNano);
  writeAttributes(writer, 9, span.attributes);
  if (span.error !== undefined) writer.begin(15).string(2, span.error).varint(3, STATUS_ERROR).end();
  writer.end();
}

/** An ExportTraceServiceRequest holding `spans`, grouped by resource. */
export function encodeTracesRequest(spans: readonly MeshSpan[]): Buffer {
  const writer = new ProtoWriter(256 + spans.length * 320);
  for (const group of groupByResource(spans)) {
    writer.begin(1);
    writeResource(writer, 1, (group[0] as MeshSpan).resource);
    writer.begin(2);
    writeScope(writer, 1);
    for (const span of group) writeSpan(writer, span);
    writer.end().end();
  }
  return writer.finish();
}
