import { loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createStore } from './store/store.js';

/**
 * The app wired from the environment: one store (one DynamoDB client) per process. On Lambda the
 * store starts reading the cursor secret from Secrets Manager at load, and the first request's own
 * reads go on beside it (config.ts `loadConfig`).
 */
const config = await loadConfig();
export const app = createApp({ store: createStore(config), config });
export type AppType = typeof app;
