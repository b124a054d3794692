import type { Config } from './config.js';
import { createInfrastructure, type ContainerOptions } from './infrastructure.js';
import { defineJobs } from './jobs/definitions.js';
import { createServices } from './services.js';

export { systemClock, type Clock, type ContainerOptions, type Infrastructure } from './infrastructure.js';

/**
 * The composition root: wires the infrastructure (database, shared store, cipher, keys, tokens, mail,
 * limiters, clock), then builds every service once from it (`createServices`). The web process, the
 * CLI and tests all start here; nothing else builds a service.
 */
export async function createContainer(config: Config, opts: ContainerOptions = {}) {
  const infra = await createInfrastructure(config, opts);
  const services = createServices(infra);
  defineJobs(infra, services);
  return { ...infra, ...services };
}
export type Container = Awaited<ReturnType<typeof createContainer>>;
