/**
 * The program a mesh proxy container runs, bundled on its own (scripts/build-cli.mjs →
 * dist/bin/flotilla-mesh-proxy.cjs) so that a proxy process loads the mesh and nothing else of
 * Flotilla: `node <MESH_PROXY_NODE_FLAGS> flotilla-mesh-proxy.cjs [config.json]`, the config
 * otherwise from FLOTILLA_MESH_CONFIG.
 */
import { meshProxyProgram } from './proxy-main.js';

meshProxyProgram();
