/** The docker driver: the Driver contract over the Docker Engine API. */
export { createDockerDriver, type DockerDriverOptions } from './docker-driver.js';
export { DockerErrorCode } from './errors.js';
