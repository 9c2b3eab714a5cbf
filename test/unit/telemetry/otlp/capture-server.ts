import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as an exporter sent it. */
export interface CapturedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A local OTLP endpoint on 127.0.0.1:0 that keeps every request and answers 200 with an empty body. */
export interface CaptureServer extends AsyncDisposable {
  url: string;
  requests: CapturedRequest[];
}

/** Starts a capture server; dispose it to close it. */
export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      // An empty body is a full success in both encodings (ExportServiceResponse with no partial_success).
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
