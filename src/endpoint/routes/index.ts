import type { RouteDef } from '../route.js';
import { connectionRoutes } from './connections.js';
import { downloadCredentialRoutes } from './download-credentials.js';
import { identityRoutes } from './identities.js';
import { sessionRoutes } from './sessions.js';
import { studioRoutes } from './studio.js';
import { utilityRoutes } from './utility.js';
import { vaultRoutes } from './vault.js';

/** Every route, in registration order: fixed paths before the vault's `/:id`. */
export const ROUTES: RouteDef[] = [...connectionRoutes, ...downloadCredentialRoutes, ...sessionRoutes, ...utilityRoutes, ...studioRoutes, ...identityRoutes, ...vaultRoutes];
