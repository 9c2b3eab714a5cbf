/**
 * node's flags for a mesh proxy process: one source for the proxy image (mesh-image.ts) and for the
 * benchmark that measures that process (bench/mesh-proxy.mjs bundles this file), so the figures in
 * bench/README.md are those of what a container runs. Imports nothing, so the benchmark can load it
 * alone. Each flag was kept because it lowered a proxy's memory at no measurable cost in throughput
 * (bench/README.md, mesh-proxy); the candidates that did not make it are listed there.
 */

/**
 * A 1 MiB young generation (V8 grows each semi-space up to 16 MiB under allocation) and one V8
 * worker thread instead of four (fewer threads, fewer malloc arenas): a proxy runs one event loop
 * and keeps a small heap, so neither costs throughput.
 */
export const MESH_PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--v8-pool-size=1'];
