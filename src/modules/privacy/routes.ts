import type { FastifyInstance } from 'fastify';
import { consentRoutes } from './consent/routes.js';
import type { ConsentService } from './consent/service.js';
import { deletionRoutes } from './deletion/routes.js';
import type { DeletionService } from './deletion/service.js';
import { exportRoutes } from './export/routes.js';
import type { ExportService } from './export/service.js';
import { policyRoutes } from './policy/routes.js';
import type { PolicyService } from './policy/service.js';
import { retentionRoutes } from './retention/routes.js';
import type { RetentionService } from './retention/service.js';

export interface PrivacyServices {
  policies: PolicyService;
  consents: ConsentService;
  exports: ExportService;
  deletions: DeletionService;
  retention: RetentionService;
}

/** Every privacy route under /popia/ (docs/privacy.md), in the order the API documents them. */
export function privacyRoutes(services: PrivacyServices) {
  return async (app: FastifyInstance) => {
    await app.register(policyRoutes(services));
    await app.register(consentRoutes(services));
    await app.register(exportRoutes(services));
    await app.register(deletionRoutes(services));
    await app.register(retentionRoutes(services));
  };
}
