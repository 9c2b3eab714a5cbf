export * from './errors.js';
export { FLOTILLA_VERSION } from './version.js';
